import type { PriceConfig } from '../config/types.js';
import { pickWeighted, type Weighted } from './pick-weighted.js';

/** Tokens a request is expected to use, for cost ranking and token limits. */
export interface TokenEstimate {
  promptTokens: number;
  completionTokens: number;
}

/** Expected cost of a request in USD per 1M-token prices; only compared, never billed. */
export function estimateCost(price: PriceConfig, tokens: TokenEstimate): number {
  return price.input * tokens.promptTokens + price.output * tokens.completionTokens;
}

/**
 * The item whose request would cost least; items that cost the same (two keys of one model)
 * share the traffic by weight. `costOf` is any monotonic cost, see `estimateCost`.
 */
export function pickCheapest<T extends Weighted>(items: readonly T[], costOf: (item: T) => number, random: () => number): T | undefined {
  if (items.length <= 1) return items[0];
  let lowest = Infinity;
  const costs = items.map((item) => {
    const cost = costOf(item);
    if (cost < lowest) lowest = cost;
    return cost;
  });
  // Relative tolerance: prices are decimals, and 0.15 × n need not equal another path to the same number.
  const tolerance = Math.abs(lowest) * 1e-9;
  const cheapest = items.filter((_, i) => costs[i]! - lowest <= tolerance);
  return pickWeighted(cheapest, random);
}
