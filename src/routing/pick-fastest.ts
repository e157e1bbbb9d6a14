import { pickWeighted, type Weighted } from './pick-weighted.js';

/** Share of picks sent to a deployment other than the fastest, so a recovered one gets measured again. */
export const DEFAULT_EXPLORATION = 0.05;

/**
 * The item with the lowest recent latency. Items with no measurement yet come first (they have
 * to be measured to be ranked); with probability `exploration` another item is chosen by weight,
 * so a deployment that was slow and recovered is noticed. Equal latencies share by weight.
 */
export function pickFastest<T extends Weighted>(
  items: readonly T[],
  latencyOf: (item: T) => number | undefined,
  random: () => number,
  exploration = DEFAULT_EXPLORATION,
): T | undefined {
  if (items.length <= 1) return items[0];
  const unmeasured: T[] = [];
  let fastest: T[] = [];
  let lowest = Infinity;
  for (const item of items) {
    const latency = latencyOf(item);
    if (latency === undefined) unmeasured.push(item);
    else if (latency < lowest) {
      lowest = latency;
      fastest = [item];
    } else if (latency === lowest) fastest.push(item);
  }
  if (unmeasured.length > 0) return pickWeighted(unmeasured, random);
  if (fastest.length < items.length && random() < exploration) {
    return pickWeighted(
      items.filter((item) => !fastest.includes(item)),
      random,
    );
  }
  return pickWeighted(fastest, random);
}
