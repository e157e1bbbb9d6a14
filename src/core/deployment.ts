/**
 * Where a call can go: deployments and the model groups clients name. Shared by routing,
 * the pipeline, the cache and prompts, so it lives at the bottom layer (docs/architecture.md).
 */
import type { ProviderAdapter } from './adapter.js';

/** USD per 1M tokens. */
export interface PriceConfig {
  input: number;
  output: number;
  cached_input?: number;
}

/** A deployment's effective price; `known: false` means cost 0 and a flag on the record. */
export interface ResolvedPrice {
  price: PriceConfig;
  known: boolean;
}

export interface DeploymentLimits {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens per minute (prompt + completion). */
  tpm?: number;
  /** Requests in flight at once. */
  concurrency?: number;
}

export type Strategy = 'weighted' | 'cost' | 'latency' | 'least-busy' | 'priority';

/** One place a model group's requests can go: a provider and an upstream model. */
export interface Deployment {
  /** Stable id for health, limits and reports: `<group>/<index>` or `<provider>/<model>`. */
  id: string;
  provider: string;
  adapter: ProviderAdapter;
  /** The upstream model id. */
  model: string;
  weight: number;
  /** Configured price, else the bundled table's, resolved once at start. */
  pricing: ResolvedPrice;
  limits?: DeploymentLimits;
  /** Per-attempt timeout, ms. */
  timeoutMs: number;
}

/** What a client names as `model`: a configured group, or a direct `provider/model`. */
export interface ModelGroup {
  name: string;
  strategy: Strategy;
  retries: number;
  timeoutMs: number;
  deadlineMs?: number;
  fallbacks: readonly string[];
  deployments: readonly Deployment[];
  /** True for `provider/model` names that reach one provider's model directly. */
  isDirect: boolean;
  /** A cheaper group calls go to once the caller has used `threshold` of its tightest budget. */
  budgetFallback?: { group: string; threshold: number };
}
