/**
 * The `guardrails:` block of a model group or a prompt file (DESIGN.md, Cache and guardrails):
 * its JSON Schema, shared by the config and the prompt file schemas, and its type.
 */

export type PiiMode = 'redact' | 'block' | 'off';

/** Guardrail settings, after defaults. */
export interface GuardrailSettings {
  /** What to do with emails, phone numbers, payment cards, IBANs and API keys in the messages. */
  pii: PiiMode;
  /** Case-insensitive regular expressions; user text matching one is refused. */
  deny: string[];
  /** Most input tokens (tiktoken o200k_base, chat framing included) a request may carry. */
  max_input_tokens?: number;
}

export const guardrailSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pii: { enum: ['redact', 'block', 'off'], default: 'off' },
    deny: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    max_input_tokens: { type: 'integer', minimum: 1 },
  },
} as const;
