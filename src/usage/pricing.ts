import type { ModelGroup, PriceConfig, ResolvedPrice } from '../core/deployment.js';

export type { ResolvedPrice };
import type { Usage } from '../core/types.js';
import { lookupBundledPrice } from './prices.js';

const FREE: PriceConfig = { input: 0, output: 0 };

export function resolvePrice(model: string, configured: PriceConfig | undefined, isMock = false): ResolvedPrice {
  if (configured) return { price: configured, known: true };
  // The offline mock costs nothing, and that is a known price, not a missing one.
  if (isMock) return { price: FREE, known: true };
  const bundled = lookupBundledPrice(model);
  return bundled ? { price: bundled, known: true } : { price: FREE, known: false };
}

/**
 * Cost of a call in nano-USD (1e-9 USD), an integer so that sums over millions of records are
 * exact. Cached input tokens are priced at `cached_input` (the input rate when none is set).
 */
export function costNanoUsd(usage: Usage, price: PriceConfig): number {
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const uncached = usage.promptTokens - cached;
  // USD per 1M tokens × tokens / 1e6 × 1e9 nano-USD = rate × tokens × 1000.
  const nano =
    uncached * price.input * 1000 + cached * (price.cached_input ?? price.input) * 1000 + usage.completionTokens * price.output * 1000;
  return Math.round(nano);
}

export function nanoToUsd(nano: number): number {
  return nano / 1e9;
}

/**
 * The most a call can cost, nano-USD: its prompt at the dearest input price and its output cap
 * at the dearest output price among every deployment it may reach, so a reservation is never
 * below what the call bills unless it runs past its cap.
 */
export function worstCaseCostNano(groups: readonly ModelGroup[], promptTokens: number, outputTokens: number): number {
  let input = 0;
  let output = 0;
  for (const group of groups) {
    for (const deployment of group.deployments) {
      input = Math.max(input, deployment.pricing.price.input);
      output = Math.max(output, deployment.pricing.price.output);
    }
  }
  return Math.ceil(promptTokens * input * 1000 + outputTokens * output * 1000);
}
