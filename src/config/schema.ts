/** JSON Schema of the config file; Ajv fills defaults and coerces `${VAR}` strings to numbers/booleans. */
import { cacheSettingsSchema } from '../cache/cache-settings.js';
import { guardrailSettingsSchema } from '../guardrails/guardrail-settings.js';

const price = {
  type: 'object',
  additionalProperties: false,
  required: ['input', 'output'],
  properties: {
    input: { type: 'number', minimum: 0 },
    output: { type: 'number', minimum: 0 },
    cached_input: { type: 'number', minimum: 0 },
  },
} as const;

const limits = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rpm: { type: 'integer', minimum: 1 },
    tpm: { type: 'integer', minimum: 1 },
    concurrency: { type: 'integer', minimum: 1 },
  },
} as const;

const deployment = {
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'model'],
  properties: {
    provider: { type: 'string', minLength: 1 },
    model: { type: 'string', minLength: 1 },
    weight: { type: 'number', exclusiveMinimum: 0, default: 1 },
    price,
    limits,
    timeout_ms: { type: 'integer', minimum: 1 },
  },
} as const;

const modelGroup = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'deployments'],
  properties: {
    name: { type: 'string', minLength: 1, pattern: '^[^/\\s]+$' },
    strategy: { enum: ['weighted', 'cost', 'latency', 'least-busy', 'priority'], default: 'weighted' },
    retries: { type: 'integer', minimum: 0, maximum: 10, default: 2 },
    timeout_ms: { type: 'integer', minimum: 1, default: 30000 },
    deadline_ms: { type: 'integer', minimum: 1 },
    fallbacks: { type: 'array', items: { type: 'string' }, default: [] },
    deployments: { type: 'array', minItems: 1, items: deployment },
    cache: cacheSettingsSchema,
    guardrails: guardrailSettingsSchema,
  },
} as const;

const provider = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: ['openai', 'openai-compatible', 'anthropic', 'gemini', 'mock'] },
    api_key: { type: 'string' },
    base_url: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    latency_ms: { type: 'integer', minimum: 0 },
    chunk_delay_ms: { type: 'integer', minimum: 0 },
  },
} as const;

const headerChanges = {
  type: 'object',
  additionalProperties: false,
  properties: {
    set: { type: 'object', additionalProperties: { type: 'string' } },
    remove: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
} as const;

const service = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'prefix', 'targets'],
  properties: {
    name: { type: 'string', minLength: 1 },
    prefix: { type: 'string', pattern: '^/' },
    strip_prefix: { type: 'boolean', default: true },
    timeout_ms: { type: 'integer', minimum: 1, default: 10000 },
    methods: { type: 'array', minItems: 1, items: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY'] } },
    rewrite: { type: 'string', pattern: '^/' },
    preserve_host: { type: 'boolean', default: false },
    approval: { enum: ['none', 'required'], default: 'none' },
    retries: { type: 'integer', minimum: 0, maximum: 10, default: 2 },
    body_limit_mb: { type: 'number', exclusiveMinimum: 0 },
    request_headers: headerChanges,
    response_headers: headerChanges,
    health: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_fails: { type: 'integer', minimum: 1, default: 3 },
        cooldown_ms: { type: 'integer', minimum: 1, default: 10000 },
        check: {
          type: 'object',
          additionalProperties: false,
          required: ['path'],
          properties: {
            path: { type: 'string', pattern: '^/' },
            interval_ms: { type: 'integer', minimum: 100, default: 5000 },
            timeout_ms: { type: 'integer', minimum: 1, default: 2000 },
          },
        },
      },
    },
    targets: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: { url: { type: 'string', pattern: '^https?://' }, weight: { type: 'number', exclusiveMinimum: 0, default: 1 } },
      },
    },
  },
} as const;

const redisNode = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port'],
  properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
} as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8787 },
        body_limit_mb: { type: 'number', exclusiveMinimum: 0, default: 10 },
        shutdown_grace_ms: { type: 'integer', minimum: 0, default: 10000 },
        log_level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        redis_url: { type: 'string', default: '' },
        key_prefix: { type: 'string', default: 'konnect:' },
        // Sentinel or Cluster instead of one node; redis_url (if set) then only lends its credentials, db and TLS.
        sentinels: { type: 'array', items: redisNode },
        sentinel_name: { type: 'string', minLength: 1 },
        sentinel_password: { type: 'string' },
        cluster_nodes: { type: 'array', items: redisNode },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        master_key: { type: 'string', default: '' },
        require_keys: { type: 'boolean', default: false },
        // POSTed a JSON alert when a key or team reaches 80% and 100% of its budget; empty: log only.
        budget_alert_webhook: { type: 'string', default: '', pattern: '^(https?://.*)?$' },
      },
    },
    providers: { type: 'object', default: {}, additionalProperties: provider },
    models: { type: 'array', default: [], items: modelGroup },
    prompts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { dir: { type: 'string', default: 'prompts' } },
    },
    services: { type: 'array', default: [], items: service },
    ledger: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        batch_size: { type: 'integer', minimum: 1, maximum: 5000, default: 200 },
        flush_interval_ms: { type: 'integer', minimum: 10, default: 250 },
        buffer_max: { type: 'integer', minimum: 1, default: 50000 },
        write_timeout_ms: { type: 'integer', minimum: 100, default: 5000 },
        spool_dir: { type: 'string', minLength: 1, default: '.ledger-spool' },
        log_max_records: { type: 'integer', minimum: 1 },
        log_retention_days: { type: 'number', minimum: 0, default: 30 },
        usage_retention_days: { type: 'number', minimum: 0, default: 400 },
        dedupe_ttl_s: { type: 'integer', minimum: 60, default: 604800 },
      },
    },
  },
} as const;
