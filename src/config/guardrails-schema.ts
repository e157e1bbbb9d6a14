/**
 * The `guardrails:` block of a model group or a prompt file (docs/caching-and-guardrails.md),
 * shared by the config and the prompt file schemas.
 */
import { Type } from '@sinclair/typebox';
import { closed, REGEX, StringEnum } from './schema-builders.js';

const PII_MODES = ['redact', 'block', 'off'] as const;

export const guardrailSettingsSchema = Type.Object(
  {
    pii: StringEnum(PII_MODES, {
      default: 'off',
      description: 'What to do with emails, phone numbers, payment cards, IBANs and API keys in the messages.',
    }),
    deny: Type.Array(Type.String({ minLength: 1, [REGEX]: 'i' }), {
      default: [],
      description: 'Case-insensitive regular expressions; user text matching one is refused.',
    }),
    max_input_tokens: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Most input tokens (tiktoken o200k_base, chat framing included) a request may carry.' }),
    ),
  },
  { ...closed, description: 'PII handling, deny rules and input limits; absent: none.' },
);
