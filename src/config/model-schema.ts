/** `models:`: the model groups clients name, each with the deployments its calls go to. */
import { Type } from '@sinclair/typebox';
import { cacheSettingsSchema } from './cache-schema.js';
import { guardrailSettingsSchema } from './guardrails-schema.js';
import { GROUP_NAME_PATTERN, MODEL_NAME_MAX, NOT_RESERVED } from './names.js';
import { closed, StringEnum } from './schema-builders.js';

export const priceSchema = Type.Object(
  {
    input: Type.Number({ minimum: 0, description: 'USD per 1M prompt tokens.' }),
    output: Type.Number({ minimum: 0, description: 'USD per 1M completion tokens.' }),
    cached_input: Type.Optional(Type.Number({ minimum: 0, description: 'USD per 1M prompt tokens read from the provider\'s prompt cache; `input` when absent.' })),
  },
  {
    ...closed,
    description: `USD per 1M tokens. Absent: the bundled price table (src/usage/prices.ts); a model
      in neither costs 0 and its calls are flagged as unpriced.`,
  },
);

export const deploymentLimitsSchema = Type.Object(
  {
    rpm: Type.Optional(Type.Integer({ minimum: 1, description: 'Requests per minute.' })),
    tpm: Type.Optional(Type.Integer({ minimum: 1, description: 'Tokens per minute (prompt + completion).' })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, description: 'Requests in flight at once.' })),
  },
  { ...closed, description: 'What this deployment may take; past a limit the balancer picks another deployment ([balancing.md](balancing.md)).' },
);

const STRATEGIES = ['weighted', 'cost', 'latency', 'least-busy', 'priority'] as const;

export const deploymentSchema = Type.Object(
  {
    provider: Type.String({ minLength: 1, description: 'A key under `providers:`.' }),
    model: Type.String({ minLength: 1, description: 'The upstream model id.' }),
    weight: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Share of traffic under the `weighted` strategy, relative to the other deployments.' }),
    price: Type.Optional(priceSchema),
    limits: Type.Optional(deploymentLimitsSchema),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, description: "Per-attempt timeout for this deployment, ms; the group's when absent." })),
  },
  closed,
);

export const modelGroupSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: MODEL_NAME_MAX,
      pattern: GROUP_NAME_PATTERN,
      ...NOT_RESERVED,
      description: 'What clients send as `model`: a model name they can send, without `/` (that is `<provider>/<model>`).',
    }),
    strategy: StringEnum(STRATEGIES, { default: 'weighted', description: 'How a deployment is picked for each attempt ([balancing.md](balancing.md)).' }),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2, description: 'Further attempts after the first, on 429/5xx/timeout/connect errors.' }),
    timeout_ms: Type.Integer({
      minimum: 1,
      default: 30000,
      description: 'Per attempt, ms; for a stream, until its first chunk and then between chunks.',
    }),
    deadline_ms: Type.Optional(Type.Integer({ minimum: 1, description: 'Bounds all attempts together, ms.' })),
    fallbacks: Type.Array(Type.String(), { default: [], description: "Groups tried, in order, when this one's attempts are spent." }),
    deployments: Type.Array(deploymentSchema, { minItems: 1, description: 'Where calls to this group go: a provider and its model each.' }),
    cache: Type.Optional(cacheSettingsSchema),
    guardrails: Type.Optional(guardrailSettingsSchema),
    budget_fallback: Type.Optional(
      Type.Object(
        {
          group: Type.String({ minLength: 1, description: 'The cheaper model group calls go to.' }),
          threshold: Type.Number({
            exclusiveMinimum: 0,
            maximum: 1,
            default: 0.9,
            description: 'A fraction of the tightest budget that applies to the caller.',
          }),
        },
        {
          ...closed,
          description: `Past \`threshold\`, calls go to \`group\` instead of being refused; past the budget
            itself they are refused.`,
        },
      ),
    ),
  },
  { ...closed, description: 'A model group: what clients name as `model`, and the deployments its calls go to.' },
);
