/** `models:`: the model groups clients name, each with the deployments its calls go to. */
import { Type } from '@sinclair/typebox';
import { cacheSettingsSchema } from './cache-schema.js';
import { guardrailSettingsSchema } from './guardrails-schema.js';
import { GROUP_NAME_PATTERN, MODEL_NAME_MAX, NOT_RESERVED } from './names.js';
import { closed, StringEnum } from './schema-builders.js';

/** USD per 1M tokens. */
export const priceSchema = Type.Object(
  {
    input: Type.Number({ minimum: 0 }),
    output: Type.Number({ minimum: 0 }),
    cached_input: Type.Optional(Type.Number({ minimum: 0 })),
  },
  closed,
);

export const deploymentLimitsSchema = Type.Object(
  {
    /** Requests per minute. */
    rpm: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Tokens per minute (prompt + completion). */
    tpm: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Requests in flight at once. */
    concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  closed,
);

const STRATEGIES = ['weighted', 'cost', 'latency', 'least-busy', 'priority'] as const;

export const deploymentSchema = Type.Object(
  {
    /** A key under `providers:`. */
    provider: Type.String({ minLength: 1 }),
    /** The upstream model id. */
    model: Type.String({ minLength: 1 }),
    weight: Type.Number({ exclusiveMinimum: 0, default: 1 }),
    price: Type.Optional(priceSchema),
    limits: Type.Optional(deploymentLimitsSchema),
    /** Per-attempt timeout for this deployment, ms; the group's when absent. */
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  closed,
);

export const modelGroupSchema = Type.Object(
  {
    /** What clients send as `model`: a model name they can send, without `/` (that is `<provider>/<model>`). */
    name: Type.String({ minLength: 1, maxLength: MODEL_NAME_MAX, pattern: GROUP_NAME_PATTERN, ...NOT_RESERVED }),
    strategy: StringEnum(STRATEGIES, { default: 'weighted' }),
    /** Further attempts after the first, on 429/5xx/timeout/connect errors. */
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
    /** Per attempt, ms. */
    timeout_ms: Type.Integer({ minimum: 1, default: 30000 }),
    /** Bounds all attempts together, ms. */
    deadline_ms: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Groups tried, in order, when this one's attempts are spent. */
    fallbacks: Type.Array(Type.String(), { default: [] }),
    deployments: Type.Array(deploymentSchema, { minItems: 1 }),
    /** Exact-match response cache; absent: none. */
    cache: Type.Optional(cacheSettingsSchema),
    guardrails: Type.Optional(guardrailSettingsSchema),
    /**
     * Past `threshold` (a fraction of the tightest budget that applies to the caller), calls go
     * to `group`, a cheaper one, instead of being refused; past the budget itself they are refused.
     */
    budget_fallback: Type.Optional(
      Type.Object({ group: Type.String({ minLength: 1 }), threshold: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.9 }) }, closed),
    ),
  },
  closed,
);
