/** JSON Schema of a prompt file; Ajv fills the defaults (version 1, text output, no approval). */
import { cacheSettingsSchema } from '../config/cache-schema.js';
import { MODEL_NAME_MAX, MODEL_NAME_PATTERN, NOT_RESERVED } from '../config/names.js';
import { guardrailSettingsSchema } from '../guardrails/guardrail-settings.js';

export const PROMPT_NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
// Relative to /prompts/ or under it; no `@` (it introduces a version) and no `..` steps.
export const PROMPT_PATH = '^(?!.*\\.\\.)(/prompts/)?[A-Za-z0-9][A-Za-z0-9_.~-]*(/[A-Za-z0-9][A-Za-z0-9_.~-]*)*$';

const params = {
  type: 'object',
  additionalProperties: false,
  properties: {
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    top_p: { type: 'number', minimum: 0, maximum: 1 },
    max_tokens: { type: 'integer', minimum: 1 },
    max_completion_tokens: { type: 'integer', minimum: 1 },
    stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }] },
    presence_penalty: { type: 'number', minimum: -2, maximum: 2 },
    frequency_penalty: { type: 'number', minimum: -2, maximum: 2 },
    seed: { type: 'integer' },
  },
} as const;

export const promptFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'model', 'messages'],
  properties: {
    /** Its ledger route is `prompt:<name>`; keys, teams and subscriptions name it too. */
    name: { type: 'string', pattern: PROMPT_NAME, ...NOT_RESERVED },
    version: { type: 'integer', minimum: 1, default: 1 },
    description: { type: 'string', maxLength: 2000 },
    path: { type: 'string', maxLength: 200, pattern: PROMPT_PATH },
    model: { type: 'string', minLength: 1, maxLength: MODEL_NAME_MAX, pattern: MODEL_NAME_PATTERN },
    input: { type: 'object', default: { type: 'object' } },
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role', 'content'],
        properties: {
          role: { enum: ['system', 'developer', 'user', 'assistant'] },
          content: { type: 'string' },
        },
      },
    },
    params,
    output: {
      type: 'object',
      additionalProperties: false,
      default: { type: 'text' },
      required: ['type'],
      properties: { type: { enum: ['text', 'json'] }, schema: { type: 'object' } },
      if: { properties: { type: { const: 'json' } } },
      then: { required: ['schema'] },
    },
    approval: { enum: ['none', 'required'], default: 'none' },
    cache: cacheSettingsSchema,
    guardrails: guardrailSettingsSchema,
  },
} as const;
