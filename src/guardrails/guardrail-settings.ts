/**
 * The `guardrails:` block of a model group or a prompt file (docs/caching-and-guardrails.md).
 * Its schema and types are the config's (src/config/guardrails-schema.ts); re-exported here for
 * the guardrails and the prompt file schema.
 */
export { guardrailSettingsSchema } from '../config/guardrails-schema.js';
export type { GuardrailSettings, PiiMode } from '../config/types.js';
