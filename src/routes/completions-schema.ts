/**
 * The body of OpenAI's legacy `POST /v1/completions`: its JSON Schema, checked by Fastify before
 * the handler runs, and its type, the schema's `Static`. Fields the gateway cannot honour on chat
 * models (`echo`, `suffix`, `logprobs`, `best_of`, `logit_bias`) are typed here so the route can
 * refuse them by name, never drop them silently. Unknown fields are allowed, as on chat.
 * https://platform.openai.com/docs/api-reference/completions/create
 */
import { Type, type Static } from '@sinclair/typebox';
import { ModelName } from '../config/schema-builders.js';
import { AnyObject, Nullable } from './body-schema-builders.js';

/** Prompts one call may carry: each is its own upstream call, run side by side. */
export const MAX_PROMPTS = 16;

/** Choices one call may ask for, prompts × `n`: chat's own bound on `n`. */
export const MAX_CHOICES = 128;

export const completionsBodySchema = Type.Object({
  model: ModelName(),
  /**
   * Text, or a list of texts. The items are checked by the route: OpenAI also takes token ids
   * (integers, or lists of them), which the gateway refuses with a message that says so rather
   * than Ajv's "must be string".
   */
  prompt: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_PROMPTS })]),
  max_tokens: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
  temperature: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 2 }))),
  top_p: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
  n: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: MAX_CHOICES }))),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
  presence_penalty: Type.Optional(Nullable(Type.Number({ minimum: -2, maximum: 2 }))),
  frequency_penalty: Type.Optional(Nullable(Type.Number({ minimum: -2, maximum: 2 }))),
  seed: Type.Optional(Nullable(Type.Integer())),
  user: Type.Optional(Nullable(Type.String())),
  stream: Type.Optional(Nullable(Type.Boolean())),
  stream_options: Type.Optional(Nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }))),
  echo: Type.Optional(Nullable(Type.Boolean())),
  suffix: Type.Optional(Nullable(Type.String())),
  logprobs: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 5 }))),
  best_of: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 20 }))),
  logit_bias: Type.Optional(Nullable(AnyObject())),
});

export type CompletionsBody = Static<typeof completionsBodySchema>;
