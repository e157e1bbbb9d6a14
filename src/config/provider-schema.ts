/**
 * `providers:`: one entry per upstream account, a union told apart by `type`. Each variant
 * takes only what its adapter (under providers/) reads; anything else is a fault.
 */
import { Type } from '@sinclair/typebox';
import type { ProviderKind } from '../core/types.js';
import { closed, FAULT, StringMap, TaggedUnion } from './schema-builders.js';

/**
 * Whether clients may send `<provider>/<model>` for a model no group names, when `direct` is not
 * set: not on hosted vendors, where the gateway's key would pay for whatever model a client
 * picks; yes on servers you run (and the offline mock), where the models are yours.
 */
export function directByDefault(kind: ProviderKind): boolean {
  return kind === 'openai-compatible' || kind === 'mock';
}

/**
 * `direct`: `true` (any model), `false` (none) or a list of model ids, each exact or a prefix
 * ending in `*` (`gpt-4o*`). One `type` list, not a union, so a bad value is one fault. The
 * default is filled in at load, so the effective config (`GET /admin/config`) shows it.
 */
function directSchema(kind: ProviderKind) {
  return Type.Optional(
    Type.Unsafe<boolean | string[]>({
      type: ['boolean', 'array'],
      items: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9._:/@+-]*\\*?$' },
      default: directByDefault(kind),
      description: `Which models clients may name as \`<provider>/<model>\` without a model group: \`true\` (any),
        \`false\` (none) or a list of model ids, each exact or a prefix ending in \`*\` (\`gpt-4o*\`).`,
    }),
  );
}

const headers = Type.Optional(StringMap(Type.String(), { description: 'Extra headers sent upstream (an OpenAI organization, a proxy token…).' }));

/** What a hosted vendor (OpenAI, Anthropic, Gemini) takes. */
const hosted = {
  api_key: Type.Optional(
    Type.String({
      description: 'The vendor API key. Without one, or with an empty one (`${KEY:-}`), the provider and its deployments are left out at start.',
    }),
  ),
  base_url: Type.Optional(
    Type.String({ description: "The vendor's own API root when absent; set it for a proxy or a regional endpoint." }),
  ),
  headers,
  // Off unless set, as for every hosted vendor (directByDefault).
  direct: directSchema('openai'),
};

/**
 * Every kind but mock. The refusal counts neither against the deployment's health nor as a
 * reason to try another deployment: it is this gateway's load, not the upstream's fault.
 */
const connections = Type.Optional(
  Type.Integer({
    minimum: 1,
    maximum: 65536,
    default: 256,
    description: 'Requests in flight at once to the provider, each on its own connection; one more is refused at once with 503 `gateway_busy`.',
  }),
);

/** Every kind but mock: what a broken or hostile upstream can make the gateway hold for one answer. */
const answerLimit = Type.Optional(
  Type.Number({
    exclusiveMinimum: 0,
    maximum: 4096,
    default: 128,
    description:
      'Largest answer read from the provider, MB: a whole JSON answer, or one event of a stream. Past it the call fails with 502 `upstream_invalid_response` and the connection is dropped.',
  }),
);

export const openAIProviderSchema = Type.Object(
  { type: Type.Literal('openai'), ...hosted, connections, answer_limit_mb: answerLimit },
  { ...closed, description: 'OpenAI; switched on by its `api_key`.' },
);

export const anthropicProviderSchema = Type.Object(
  { type: Type.Literal('anthropic'), ...hosted, connections, answer_limit_mb: answerLimit },
  { ...closed, description: 'Anthropic (Messages API); switched on by its `api_key`.' },
);

export const geminiProviderSchema = Type.Object(
  { type: Type.Literal('gemini'), ...hosted, connections, answer_limit_mb: answerLimit },
  { ...closed, description: 'Google Gemini; switched on by its `api_key`.' },
);

export const openAICompatibleProviderSchema = Type.Object(
  {
    type: Type.Literal('openai-compatible'),
    api_key: Type.Optional(Type.String({ description: 'Sent as a Bearer token; optional, as many local servers take none.' })),
    base_url: Type.String({
      minLength: 1,
      [FAULT]: 'an openai-compatible provider needs base_url',
      description: 'The API root, `/v1` included: `http://127.0.0.1:11434/v1`.',
    }),
    headers,
    connections,
    answer_limit_mb: answerLimit,
    direct: directSchema('openai-compatible'),
  },
  { ...closed, description: "A server that speaks OpenAI's API (Ollama, vLLM, Groq…); it has no default address." },
);

export const mockProviderSchema = Type.Object(
  {
    type: Type.Literal('mock'),
    latency_ms: Type.Optional(Type.Integer({ minimum: 0, description: 'Delay before the answer starts, ms.' })),
    chunk_delay_ms: Type.Optional(Type.Integer({ minimum: 0, description: 'Delay between stream chunks, ms.' })),
    direct: directSchema('mock'),
  },
  { ...closed, description: 'The offline provider: deterministic answers, streams, tool calls and JSON; no key, no network.' },
);

export const providerSchema = TaggedUnion('type', [
  openAIProviderSchema,
  openAICompatibleProviderSchema,
  anthropicProviderSchema,
  geminiProviderSchema,
  mockProviderSchema,
]);
