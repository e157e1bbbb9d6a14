import type { CacheSettings } from '../cache/cache-settings.js';
import type { ProviderKind } from '../core/types.js';
import type { GuardrailSettings } from '../guardrails/guardrail-settings.js';

import type { DeploymentLimits, PriceConfig, Strategy } from '../core/deployment.js';

export type { DeploymentLimits, PriceConfig, Strategy };

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
  /** Exact-match response cache; absent: none. */
  cache?: CacheSettings;
  guardrails?: GuardrailSettings;
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

export type ServiceMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'TRACE' | 'QUERY';

/** Headers to set (overwriting) and remove, names case-insensitive. */
export interface HeaderChanges {
  set?: Record<string, string>;
  remove?: string[];
}

export interface ServiceHealthConfig {
  /** Consecutive 5xx answers or timeouts that eject a target; a refused connection ejects at once. */
  max_fails: number;
  /** How long an ejected target gets no traffic, ms. */
  cooldown_ms: number;
  /** Active check: GET `path` on every target; a non-2xx/3xx answer or no answer marks it down until one passes. */
  check?: { path: string; interval_ms: number; timeout_ms: number };
}

export interface ServiceConfig {
  name: string;
  prefix: string;
  /** Drop the prefix before forwarding; ignored when `rewrite` is set. */
  strip_prefix: boolean;
  /** Replaces the prefix with this path before forwarding. */
  rewrite?: string;
  /** Wait for response headers, and longest silence between body chunks, ms. */
  timeout_ms: number;
  targets: ServiceTargetConfig[];
  /** Allowed methods; absent: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS. */
  methods?: ServiceMethod[];
  /** Send the client's Host header upstream instead of the target's. */
  preserve_host: boolean;
  /** `required`: callers need an approved subscription of their team (POST /admin/subscriptions). */
  approval: 'none' | 'required';
  /** Further attempts on other targets, idempotent methods only, on connection errors or 503. */
  retries: number;
  /** Request body limit, MB; `server.body_limit_mb` when absent. */
  body_limit_mb?: number;
  request_headers?: HeaderChanges;
  response_headers?: HeaderChanges;
  health: ServiceHealthConfig;
}

/** How usage records are batched, buffered and kept (DESIGN.md, Ledger). */
export interface LedgerConfig {
  /** Records per store write. */
  batch_size: number;
  /** How often a partial batch is written, ms. */
  flush_interval_ms: number;
  /** Records held in memory while Redis is down; more go to the spool directory. */
  buffer_max: number;
  /** A store write slower than this is retried (idempotently), ms. */
  write_timeout_ms: number;
  /** Where unwritten records are saved at shutdown and replayed at the next start. */
  spool_dir: string;
  /** Request log length cap (approximate in Redis). */
  /** Request log length; default 100,000 in Redis, 10,000 in process memory. */
  log_max_records?: number;
  /** Request log entries older than this are trimmed, days; 0: only the length cap. */
  log_retention_days: number;
  /** Hourly usage aggregates expire after this many days; 0: kept forever. */
  usage_retention_days: number;
  /** How long a written batch id is remembered against double counting, s. */
  dedupe_ttl_s: number;
}

export interface RedisNodeConfig {
  host: string;
  port: number;
}

/** Where shared state lives: one Redis node (`redis_url`), a Sentinel set, or a Cluster; none: process memory. */
export interface StoreConfig {
  /** `redis://[user:password@]host:port[/db]` (`rediss://` for TLS); with Sentinel or Cluster only its credentials, db and TLS are used. */
  redis_url: string;
  key_prefix: string;
  sentinels?: RedisNodeConfig[];
  /** The master's name as the sentinels know it. */
  sentinel_name?: string;
  /** Password of the sentinels themselves (the master's comes from `redis_url`). */
  sentinel_password?: string;
  cluster_nodes?: RedisNodeConfig[];
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
  store: StoreConfig;
  auth: {
    master_key: string;
    require_keys: boolean;
    /** URL that receives budget alerts (80% and 100%) as a JSON POST; empty: log line only. */
    budget_alert_webhook: string;
  };
  providers: Record<string, ProviderConfig>;
  models: ModelGroupConfig[];
  prompts: { dir: string };
  services: ServiceConfig[];
  ledger: LedgerConfig;
}
