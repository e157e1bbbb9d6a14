/**
 * The `cache:` block of a model group or a prompt file (docs/caching-and-guardrails.md). Its
 * schema and type are the config's (src/config/cache-schema.ts); re-exported here for the cache
 * and the prompt file schema.
 */
export { cacheSettingsSchema } from '../config/cache-schema.js';
export type { CacheSettings } from '../config/types.js';
