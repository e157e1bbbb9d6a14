import type { ProviderKind } from '../core/types.js';

/** USD per 1M tokens. */
export interface PriceConfig {
  input: number;
  output: number;
  cached_input?: number;
}

export interface DeploymentLimits {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens per minute (prompt + completion). */
  tpm?: number;
  /** Requests in flight at once. */
  concurrency?: number;
}

export interface DeploymentConfig {
  /** A key under `providers:`. */
  provider: string;
  /** The upstream model id. */
  model: string;
  weight: number;
  price?: PriceConfig;
  limits?: DeploymentLimits;
  /** Per-attempt timeout for this deployment; the group's when absent. */
  timeout_ms?: number;
}

export type Strategy = 'weighted' | 'cost' | 'latency' | 'least-busy' | 'priority';

export interface ModelGroupConfig {
  /** What clients send as `model`. */
  name: string;
  strategy: Strategy;
  /** Further attempts after the first, on 429/5xx/timeout/connect errors. */
  retries: number;
  /** Per attempt, ms. */
  timeout_ms: number;
  /** Bounds all attempts together, ms. */
  deadline_ms?: number;
  fallbacks: string[];
  deployments: DeploymentConfig[];
}

export interface ProviderConfig {
  type: ProviderKind;
  api_key?: string;
  base_url?: string;
  /** Extra headers sent upstream (an OpenAI organization, a proxy token…). */
  headers?: Record<string, string>;
  /** mock only: delay before the answer starts, ms. */
  latency_ms?: number;
  /** mock only: delay between stream chunks, ms. */
  chunk_delay_ms?: number;
}

export interface ServiceTargetConfig {
  url: string;
  weight: number;
}

export interface ServiceConfig {
  name: string;
  prefix: string;
  strip_prefix: boolean;
  timeout_ms: number;
  targets: ServiceTargetConfig[];
  methods?: string[];
}

export interface GatewayConfig {
  server: {
    host: string;
    port: number;
    body_limit_mb: number;
    /** How long SIGTERM waits for in-flight requests and streams, ms. */
    shutdown_grace_ms: number;
    log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
  store: { redis_url: string; key_prefix: string };
  auth: { master_key: string; require_keys: boolean };
  providers: Record<string, ProviderConfig>;
  models: ModelGroupConfig[];
  prompts: { dir: string };
  services: ServiceConfig[];
}
