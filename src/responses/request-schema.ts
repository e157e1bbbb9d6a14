/**
 * The `POST /v1/responses` body: a JSON Schema Fastify checks before the handler runs, and its
 * type. Items and content parts are one open object type each, as clients send many variants;
 * what each `type` needs, and the variants the gateway cannot serve, are checked while
 * translating (./to-chat-request.ts, ./unsupported.ts) so the errors name the exact field.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ModelName, StringEnum } from '../config/schema-builders.js';

/** `schema` or null: clients send null for "not set". */
const OrNull = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** An object with any fields (a JSON Schema the client wrote). */
const AnyObject = () => Type.Unsafe<Record<string, unknown>>({ type: 'object' });

/** Ids the gateway hands out are short; anything longer than this is nobody's id. */
export const MAX_ID_LENGTH = 128;

/** A response id as a client may send it: bounded and plain, so no stray text reaches a store key. */
export const ResponseIdSchema = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '^[A-Za-z0-9_-]+$' });

const contentPart = Type.Object({
  type: Type.String({ maxLength: 64 }),
  text: Type.Optional(Type.String()),
  image_url: Type.Optional(OrNull(Type.String())),
  file_id: Type.Optional(OrNull(Type.String())),
  detail: Type.Optional(Type.String({ maxLength: 16 })),
  refusal: Type.Optional(Type.String()),
});

const itemContent = Type.Union([Type.String(), Type.Array(contentPart)]);

/** One input item, whatever its type: a message (with or without `type`), a function call or its output, an item reference. */
const inputItem = Type.Object({
  type: Type.Optional(Type.String({ maxLength: 64 })),
  id: Type.Optional(OrNull(Type.String({ maxLength: MAX_ID_LENGTH }))),
  role: Type.Optional(StringEnum(['user', 'system', 'developer', 'assistant'])),
  content: Type.Optional(itemContent),
  status: Type.Optional(OrNull(Type.String({ maxLength: 32 }))),
  call_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  name: Type.Optional(Type.String({ maxLength: 256 })),
  arguments: Type.Optional(Type.String()),
  output: Type.Optional(itemContent),
});

const tool = Type.Object({
  type: Type.String({ maxLength: 64 }),
  name: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' })),
  description: Type.Optional(OrNull(Type.String())),
  parameters: Type.Optional(OrNull(AnyObject())),
  strict: Type.Optional(OrNull(Type.Boolean())),
});

const textFormat = Type.Object({
  type: StringEnum(['text', 'json_object', 'json_schema']),
  name: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' })),
  schema: Type.Optional(AnyObject()),
  description: Type.Optional(OrNull(Type.String())),
  strict: Type.Optional(OrNull(Type.Boolean())),
});

/** OpenAI's limits: 16 pairs, keys up to 64 characters, values up to 512. */
const metadata = Type.Unsafe<Record<string, string>>({
  type: 'object',
  maxProperties: 16,
  propertyNames: { maxLength: 64 },
  additionalProperties: { type: 'string', maxLength: 512 },
});

export const responsesBodySchema = Type.Object({
  model: ModelName(),
  input: Type.Optional(Type.Union([Type.String(), Type.Array(inputItem)])),
  instructions: Type.Optional(OrNull(Type.String())),
  tools: Type.Optional(OrNull(Type.Array(tool, { maxItems: 512 }))),
  tool_choice: Type.Optional(
    OrNull(Type.Union([StringEnum(['none', 'auto', 'required']), Type.Object({ type: Type.String({ maxLength: 64 }), name: Type.Optional(Type.String()) })])),
  ),
  text: Type.Optional(OrNull(Type.Object({ format: Type.Optional(OrNull(textFormat)), verbosity: Type.Optional(OrNull(StringEnum(['low', 'medium', 'high']))) }))),
  max_output_tokens: Type.Optional(OrNull(Type.Integer({ minimum: 1 }))),
  temperature: Type.Optional(OrNull(Type.Number({ minimum: 0, maximum: 2 }))),
  top_p: Type.Optional(OrNull(Type.Number({ minimum: 0, maximum: 1 }))),
  metadata: Type.Optional(OrNull(metadata)),
  parallel_tool_calls: Type.Optional(OrNull(Type.Boolean())),
  user: Type.Optional(OrNull(Type.String({ maxLength: 256 }))),
  include: Type.Optional(OrNull(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 16 }))),
  store: Type.Optional(OrNull(Type.Boolean())),
  previous_response_id: Type.Optional(OrNull(ResponseIdSchema)),
  stream: Type.Optional(OrNull(Type.Boolean())),
  /** Read only to be refused or warned about by name (./unsupported.ts). */
  background: Type.Optional(OrNull(Type.Boolean())),
  prompt: Type.Optional(OrNull(AnyObject())),
  conversation: Type.Optional(OrNull(Type.Union([Type.String(), AnyObject()]))),
  reasoning: Type.Optional(OrNull(AnyObject())),
  truncation: Type.Optional(OrNull(StringEnum(['auto', 'disabled']))),
  top_logprobs: Type.Optional(OrNull(Type.Integer({ minimum: 0, maximum: 20 }))),
  max_tool_calls: Type.Optional(OrNull(Type.Integer({ minimum: 1 }))),
  service_tier: Type.Optional(OrNull(Type.String({ maxLength: 32 }))),
  context_management: Type.Optional(OrNull(Type.Array(AnyObject()))),
  prompt_cache_key: Type.Optional(OrNull(Type.String())),
  prompt_cache_retention: Type.Optional(OrNull(Type.String({ maxLength: 32 }))),
  safety_identifier: Type.Optional(OrNull(Type.String())),
});

/** The body as validated: nulls still in; fields the schema does not name are not in the type. */
export type ResponsesBody = Static<typeof responsesBodySchema>;
export type BodyItem = Extract<NonNullable<ResponsesBody['input']>, unknown[]>[number];
export type BodyContentPart = Extract<NonNullable<BodyItem['content']>, unknown[]>[number];
export type BodyTool = NonNullable<ResponsesBody['tools']>[number];

export const responseParamsSchema = Type.Object({ id: ResponseIdSchema });

export const inputItemsQuerySchema = Type.Object({
  order: Type.Optional(StringEnum(['asc', 'desc'])),
  /** 1 to 100 (query strings are text: the gateway's validator does not coerce). */
  limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
  after: Type.Optional(Type.String({ maxLength: MAX_ID_LENGTH })),
  before: Type.Optional(Type.String({ maxLength: MAX_ID_LENGTH })),
});

export const retrieveQuerySchema = Type.Object({
  stream: Type.Optional(StringEnum(['true', 'false'])),
});
