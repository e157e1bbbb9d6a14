/**
 * The chat-completions body: its JSON Schema, checked by Fastify's compiled validator before the
 * handler runs, and its type, the schema's `Static`. Unknown fields are allowed (clients send
 * `metadata`, `store`…) and pass through to OpenAI-compatible upstreams, so no object here is
 * closed. Rules the schema cannot say (what each role's message needs) are checkChatRequest's.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ChatAdmissionBody } from '../access/register-access.js';
import { ModelName, StringEnum } from '../config/schema-builders.js';
import type { ChatMessage, ChatRequest, ResponseFormat, ThinkingConfig, ToolDefinition } from '../core/types.js';
import { AnyObject, Const, Nullable } from './body-schema-builders.js';

const textPart = Type.Object({ type: Const('text'), text: Type.String() });

const imagePart = Type.Object({
  type: Const('image_url'),
  image_url: Type.Object({
    url: Type.String({ minLength: 1 }),
    detail: Type.Optional(StringEnum(['auto', 'low', 'high'])),
  }),
});

/**
 * A text or an image part, told apart by `type` with if/then/else: a bad part is reported
 * against the kind it names, where `Type.Union` (an `anyOf`) would report it against each kind.
 */
const contentPart = Type.Unsafe<Static<typeof textPart> | Static<typeof imagePart>>({
  type: 'object',
  required: ['type'],
  properties: { type: StringEnum(['text', 'image_url']) },
  if: { properties: { type: Const('text') } },
  then: textPart,
  else: imagePart,
});

const toolCall = Type.Object({
  id: Type.String(),
  type: Const('function'),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
});

/** One message, whatever its role: what each role needs on top is checked by checkChatRequest. */
const message = Type.Object({
  role: StringEnum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: Type.Optional(Type.Union([Type.String(), Type.Array(contentPart), Type.Null()])),
  name: Type.Optional(Type.String()),
  tool_calls: Type.Optional(Type.Array(toolCall)),
  tool_call_id: Type.Optional(Type.String()),
});

const tool = Type.Object({
  type: Const('function'),
  function: Type.Object({
    name: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(AnyObject()),
    strict: Type.Optional(Nullable(Type.Boolean())),
  }),
});

/** Anthropic's extended thinking, told apart by `type` (see contentPart for why not a union). */
export const thinkingSchema = Type.Unsafe<ThinkingConfig>({
  type: 'object',
  required: ['type'],
  properties: { type: StringEnum(['enabled', 'disabled']) },
  if: { properties: { type: Const('enabled') } },
  then: Type.Object({ type: Const('enabled'), budget_tokens: Type.Integer({ minimum: 1024 }) }),
});

export const chatBodySchema = Type.Object({
  /** A group or `<provider>/<model>`: bounded and from a small character set, so no stray name reaches a record, a label or a URL. */
  model: ModelName(),
  messages: Type.Array(message, { minItems: 1 }),
  stream: Type.Optional(Nullable(Type.Boolean())),
  stream_options: Type.Optional(Nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }))),
  temperature: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 2 }))),
  top_p: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
  top_k: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
  thinking: Type.Optional(thinkingSchema),
  max_tokens: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
  max_completion_tokens: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
  n: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 128 }))),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
  presence_penalty: Type.Optional(Nullable(Type.Number({ minimum: -2, maximum: 2 }))),
  frequency_penalty: Type.Optional(Nullable(Type.Number({ minimum: -2, maximum: 2 }))),
  seed: Type.Optional(Nullable(Type.Integer())),
  user: Type.Optional(Type.String()),
  tools: Type.Optional(Type.Array(tool)),
  tool_choice: Type.Optional(
    Type.Union([
      StringEnum(['none', 'auto', 'required']),
      Type.Object({ type: Const('function'), function: Type.Object({ name: Type.String() }) }),
    ]),
  ),
  parallel_tool_calls: Type.Optional(Type.Boolean()),
  response_format: Type.Optional(
    Type.Object({
      type: StringEnum(['text', 'json_object', 'json_schema']),
      json_schema: Type.Optional(Type.Object({ name: Type.String(), schema: Type.Optional(AnyObject()) })),
    }),
  ),
});

/** The body as validated: nulls still in, unknown fields not in the type. */
export type ChatBody = Static<typeof chatBodySchema>;
export type ChatBodyMessage = ChatBody['messages'][number];
export type ChatBodyTool = NonNullable<ChatBody['tools']>[number];

/** `T` once the route has dropped the top-level fields sent as null ("not set"). */
export type WithoutNulls<T> = { [K in keyof T]: Exclude<T[K], null> };

/**
 * The fields whose body type is wider than core's, so the route converts them by name:
 * - `messages`: one object type for every role, where core has a variant per role; checkChatRequest
 *   enforces each role's fields next, to word the errors as the API does. The schema also lets
 *   assistant and tool messages hold image parts, which core types as text only: they pass through
 *   as they always have.
 * - `response_format`: `json_schema` is optional here, required by core for that type; checkChatRequest
 *   enforces it.
 * - `tools`: `function.strict` may be null (OpenAI's API takes it) below the top level, where the
 *   route drops no nulls; providers read `strict === true`.
 */
export type WiderThanCore = 'messages' | 'response_format' | 'tools';

/*
 * Compile-time checks against core's hand-written ChatRequest (core may not import routes): a
 * field added, dropped or retyped on either side fails `tsc` here.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Extends<A, B> = [A] extends [B] ? true : false;
type Holds<T extends true> = T;

type ChatBodyMatchesCore = [
  // The schema names every field core has, and no other.
  Holds<Same<keyof ChatBody, keyof ChatRequest>>,
  // Everything else is core's type once the route has dropped nulls, so it passes as it is.
  Holds<Extends<Omit<WithoutNulls<ChatBody>, WiderThanCore>, Omit<ChatRequest, WiderThanCore>>>,
  // The wider fields take every canonical value, and a canonical request has the body's shape.
  Holds<Extends<ChatMessage, ChatBodyMessage>>,
  Holds<Extends<ResponseFormat, NonNullable<ChatBody['response_format']>>>,
  Holds<Extends<ToolDefinition, ChatBodyTool>>,
  Holds<Extends<ChatRequest, ChatBody>>,
  // The access stage reads the validated body before the route does (src/access/register-access.ts).
  Holds<Extends<Omit<ChatBody, 'messages'>, Omit<ChatAdmissionBody, 'messages'>>>,
];
