import type { PriceConfig } from '../core/deployment.js';

/**
 * The bundled price table: USD per 1M tokens, list prices of the providers' public pages.
 * A deployment's `price` in config overrides it. Keys match the model id exactly or as the
 * longest prefix, so dated ids (`gpt-4o-2024-08-06`, `claude-3-5-haiku-20241022`) and
 * `-latest` aliases find their family.
 */
export const BUNDLED_PRICES: Readonly<Record<string, PriceConfig>> = {
  // OpenAI
  'gpt-5': { input: 1.25, output: 10, cached_input: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cached_input: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cached_input: 0.005 },
  'gpt-4.1': { input: 2, output: 8, cached_input: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cached_input: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cached_input: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cached_input: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cached_input: 0.075 },
  o3: { input: 2, output: 8, cached_input: 0.5 },
  'o3-mini': { input: 1.1, output: 4.4, cached_input: 0.55 },
  'o4-mini': { input: 1.1, output: 4.4, cached_input: 0.275 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0 },
  // Anthropic (cached_input is the cache-read rate)
  'claude-opus-4': { input: 15, output: 75, cached_input: 1.5 },
  'claude-sonnet-4': { input: 3, output: 15, cached_input: 0.3 },
  'claude-haiku-4-5': { input: 1, output: 5, cached_input: 0.1 },
  'claude-3-7-sonnet': { input: 3, output: 15, cached_input: 0.3 },
  'claude-3-5-sonnet': { input: 3, output: 15, cached_input: 0.3 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cached_input: 0.08 },
  'claude-3-opus': { input: 15, output: 75, cached_input: 1.5 },
  'claude-3-haiku': { input: 0.25, output: 1.25, cached_input: 0.03 },
  // Google Gemini (prompts up to 200k tokens where tiers differ)
  'gemini-2.5-pro': { input: 1.25, output: 10, cached_input: 0.31 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cached_input: 0.075 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cached_input: 0.025 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4, cached_input: 0.025 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
  'gemini-1.5-pro': { input: 1.25, output: 5, cached_input: 0.3125 },
  'gemini-1.5-flash': { input: 0.075, output: 0.3, cached_input: 0.01875 },
  'gemini-embedding-001': { input: 0.15, output: 0 },
  'text-embedding-004': { input: 0, output: 0 },
};

/** The bundled price of a model id, by exact id or longest prefix; undefined when unknown. */
export function lookupBundledPrice(model: string): PriceConfig | undefined {
  const id = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : model;
  const exact = BUNDLED_PRICES[id];
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(BUNDLED_PRICES)) {
    if (id.startsWith(`${key}-`) && (!best || key.length > best.length)) best = key;
  }
  return best ? BUNDLED_PRICES[best] : undefined;
}
