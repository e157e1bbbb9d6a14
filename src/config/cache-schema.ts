/**
 * The `cache:` block of a model group or a prompt file (docs/caching-and-guardrails.md),
 * shared by the config and the prompt file schemas.
 */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

export const cacheSettingsSchema = Type.Object(
  {
    ttl_s: Type.Integer({ minimum: 1, description: 'How long an answer is served from the cache, s.' }),
    any_temperature: Type.Boolean({
      default: false,
      description: 'Also cache requests with a temperature other than 0 (answers then stop varying).',
    }),
    max_entries: Type.Integer({ minimum: 1, default: 1000, description: 'Entries kept per group or prompt; the oldest go first past it.' }),
  },
  { ...closed, description: 'Exact-match response cache; absent: none.' },
);
