/**
 * The `cache:` block of a model group or a prompt file (docs/caching-and-guardrails.md),
 * shared by the config and the prompt file schemas.
 */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

/** Exact-match response cache settings. */
export const cacheSettingsSchema = Type.Object(
  {
    /** How long an answer is served from the cache, s. */
    ttl_s: Type.Integer({ minimum: 1 }),
    /** Also cache requests with a temperature other than 0 (answers then stop varying). */
    any_temperature: Type.Boolean({ default: false }),
    /** Entries kept per group or prompt; the oldest go first past it. */
    max_entries: Type.Integer({ minimum: 1, default: 1000 }),
  },
  closed,
);
