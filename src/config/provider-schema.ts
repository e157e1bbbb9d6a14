/**
 * `providers:`: one entry per upstream account, a union told apart by `type`. Each variant
 * takes only what its adapter (under providers/) reads; anything else is a fault.
 */
import { Type } from '@sinclair/typebox';
import { closed, FAULT, StringMap, TaggedUnion } from './schema-builders.js';

/** Extra headers sent upstream (an OpenAI organization, a proxy token…). */
const headers = Type.Optional(StringMap(Type.String()));

/** What a hosted vendor (OpenAI, Anthropic, Gemini) takes. */
const hosted = {
  /** Without one, or with an empty one (`${KEY:-}`), the provider and its deployments are left out at start. */
  api_key: Type.Optional(Type.String()),
  /** The vendor's API root when absent; set it for a proxy or a regional endpoint. */
  base_url: Type.Optional(Type.String()),
  headers,
};

export const openAIProviderSchema = Type.Object({ type: Type.Literal('openai'), ...hosted }, closed);

export const anthropicProviderSchema = Type.Object({ type: Type.Literal('anthropic'), ...hosted }, closed);

export const geminiProviderSchema = Type.Object({ type: Type.Literal('gemini'), ...hosted }, closed);

/** A server that speaks OpenAI's API (Ollama, vLLM, Groq…): it has no default address. */
export const openAICompatibleProviderSchema = Type.Object(
  {
    type: Type.Literal('openai-compatible'),
    /** Optional: many local servers take none. */
    api_key: Type.Optional(Type.String()),
    /** The API root, `/v1` included: `http://127.0.0.1:11434/v1`. */
    base_url: Type.String({ minLength: 1, [FAULT]: 'an openai-compatible provider needs base_url' }),
    headers,
  },
  closed,
);

/** The offline provider (providers/mock.ts): deterministic answers, no key, no network. */
export const mockProviderSchema = Type.Object(
  {
    type: Type.Literal('mock'),
    /** Delay before the answer starts, ms. */
    latency_ms: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Delay between stream chunks, ms. */
    chunk_delay_ms: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  closed,
);

export const providerSchema = TaggedUnion('type', [
  openAIProviderSchema,
  openAICompatibleProviderSchema,
  anthropicProviderSchema,
  geminiProviderSchema,
  mockProviderSchema,
]);
