/**
 * The Anthropic Messages body (`POST /v1/messages`, `POST /v1/messages/count_tokens`): its JSON
 * Schema, checked by Fastify before the handler runs, and its type, the schema's `Static`. Unknown
 * top-level fields are allowed and ignored (clients send betas the gateway does not serve), but
 * every block kind is named: a block the gateway cannot carry (documents, server tool results)
 * is a 400 that says which, never a silent drop. https://docs.anthropic.com/en/api/messages
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ModelName, StringEnum } from '../config/schema-builders.js';
import { AnyObject, Const, Nullable } from './body-schema-builders.js';
import { thinkingSchema } from './chat-schema.js';

const cacheControl = Nullable(Type.Object({ type: Const('ephemeral'), ttl: Type.Optional(StringEnum(['5m', '1h'])) }));

const textBlock = Type.Object({ type: Const('text'), text: Type.String(), cache_control: Type.Optional(cacheControl) });

const base64Source = Type.Object({
  type: Const('base64'),
  media_type: StringEnum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
  data: Type.String({ minLength: 1 }),
});
const urlSource = Type.Object({ type: Const('url'), url: Type.String({ minLength: 1 }) });

/** Told apart by `type` with if/then/else, so a bad source is reported against the kind it names. */
const imageSource = Type.Unsafe<Static<typeof base64Source> | Static<typeof urlSource>>({
  type: 'object',
  required: ['type'],
  properties: { type: StringEnum(['base64', 'url']) },
  if: { properties: { type: Const('base64') } },
  then: base64Source,
  else: urlSource,
});

const imageBlock = Type.Object({ type: Const('image'), source: imageSource, cache_control: Type.Optional(cacheControl) });

const toolUseBlock = Type.Object({
  type: Const('tool_use'),
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  input: AnyObject(),
  cache_control: Type.Optional(cacheControl),
});

/**
 * A string, or else an array of `item`: with if/else a bad block is reported where it is, where
 * a union (`anyOf`) would first report that the content "must be string".
 */
function StringOr<T extends TSchema>(item: T) {
  return Type.Unsafe<string | Static<T>[]>({ if: { type: 'string' }, else: Type.Array(item) });
}

const resultPart = byType({ text: textBlock, image: imageBlock });

const toolResultBlock = Type.Object({
  type: Const('tool_result'),
  tool_use_id: Type.String({ minLength: 1 }),
  content: Type.Optional(StringOr(resultPart)),
  is_error: Type.Optional(Type.Boolean()),
  cache_control: Type.Optional(cacheControl),
});

/** Earlier answers' reasoning, sent back by agents; the gateway does not carry it upstream. */
const thinkingBlock = Type.Object({ type: Const('thinking'), thinking: Type.String(), signature: Type.Optional(Type.String()) });
const redactedThinkingBlock = Type.Object({ type: Const('redacted_thinking'), data: Type.String() });

/**
 * Objects told apart by `type`: one `if/then` per kind under `allOf`, so a bad block is
 * reported against the kind it names, and an unknown kind as "must be one of".
 */
function byType<const T extends Record<string, TSchema>>(kinds: T) {
  return Type.Unsafe<Static<T[keyof T]>>({
    type: 'object',
    required: ['type'],
    properties: { type: StringEnum(Object.keys(kinds)) },
    allOf: Object.entries(kinds).map(([kind, schema]) => ({ if: { properties: { type: Const(kind) } }, then: schema })),
  });
}

const block = byType({
  text: textBlock,
  image: imageBlock,
  tool_use: toolUseBlock,
  tool_result: toolResultBlock,
  thinking: thinkingBlock,
  redacted_thinking: redactedThinkingBlock,
});

const message = Type.Object({
  role: StringEnum(['user', 'assistant']),
  content: StringOr(block),
});

/** `type` is for server tools (web search, code execution…), which the gateway refuses by name in the route. */
const tool = Type.Object({
  name: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,128}$' }),
  type: Type.Optional(Nullable(Type.String())),
  description: Type.Optional(Type.String()),
  input_schema: Type.Optional(AnyObject()),
  cache_control: Type.Optional(cacheControl),
});

const namedChoice = Type.Object({ type: Const('tool'), name: Type.String({ minLength: 1 }), disable_parallel_tool_use: Type.Optional(Type.Boolean()) });

const toolChoice = Type.Unsafe<
  { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean } | Static<typeof namedChoice> | { type: 'none' }
>({
  type: 'object',
  required: ['type'],
  properties: { type: StringEnum(['auto', 'any', 'tool', 'none']), disable_parallel_tool_use: Type.Boolean() },
  if: { properties: { type: Const('tool') } },
  then: namedChoice,
});

/** What counting tokens reads: the prompt, without output settings. */
const promptFields = {
  /** A group or `<provider>/<model>`, bounded like every model name the gateway reads. */
  model: ModelName(),
  messages: Type.Array(message, { minItems: 1 }),
  system: Type.Optional(StringOr(textBlock)),
  tools: Type.Optional(Type.Array(tool)),
  tool_choice: Type.Optional(toolChoice),
  thinking: Type.Optional(thinkingSchema),
};

export const countTokensBodySchema = Type.Object(promptFields);

export const messagesBodySchema = Type.Object({
  ...promptFields,
  max_tokens: Type.Integer({ minimum: 1 }),
  stream: Type.Optional(Type.Boolean()),
  stop_sequences: Type.Optional(Type.Array(Type.String())),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  top_k: Type.Optional(Type.Integer({ minimum: 0 })),
  metadata: Type.Optional(Type.Object({ user_id: Type.Optional(Nullable(Type.String({ maxLength: 256 }))) })),
});

export type CountTokensBody = Static<typeof countTokensBodySchema>;
export type MessagesBody = Static<typeof messagesBodySchema>;
export type MessagesBodyMessage = MessagesBody['messages'][number];
export type MessagesBlock = Extract<MessagesBodyMessage['content'], unknown[]>[number];
export type MessagesTool = NonNullable<MessagesBody['tools']>[number];
