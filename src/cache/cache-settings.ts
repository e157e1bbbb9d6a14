/**
 * The `cache:` block of a model group or a prompt file (DESIGN.md, Cache and guardrails): its
 * JSON Schema, shared by the config and the prompt file schemas, and its type.
 */

/** Exact-match response cache settings, after defaults. */
export interface CacheSettings {
  /** How long an answer is served from the cache, s. */
  ttl_s: number;
  /** Also cache requests with a temperature other than 0 (answers then stop varying). */
  any_temperature: boolean;
  /** Entries kept per group or prompt; the oldest go first past it. */
  max_entries: number;
}

export const cacheSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ttl_s'],
  properties: {
    ttl_s: { type: 'integer', minimum: 1 },
    any_temperature: { type: 'boolean', default: false },
    max_entries: { type: 'integer', minimum: 1, default: 1000 },
  },
} as const;
