import { pickWeighted, type Weighted } from './pick-weighted.js';

/** The item with the fewest requests in flight; items equally busy share by weight. */
export function pickLeastBusy<T extends Weighted>(items: readonly T[], inFlightOf: (item: T) => number, random: () => number): T | undefined {
  if (items.length <= 1) return items[0];
  let fewest = Infinity;
  let idle: T[] = [];
  for (const item of items) {
    const busy = inFlightOf(item);
    if (busy < fewest) {
      fewest = busy;
      idle = [item];
    } else if (busy === fewest) idle.push(item);
  }
  return pickWeighted(idle, random);
}
