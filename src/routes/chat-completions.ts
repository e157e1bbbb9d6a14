import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ChatMessage, ChatRequest, ResponseFormat, ToolDefinition } from '../core/types.js';
import { openAIChatFormat } from '../http/openai-format.js';
import { chatBodySchema, type ChatBody, type WiderThanCore, type WithoutNulls } from './chat-schema.js';
import { serveChat } from './serve-chat.js';

/** Top-level fields clients send as null mean "not set" to the adapters; unknown fields pass as they are. */
function withoutNulls<T extends Record<string, unknown>>(body: T): WithoutNulls<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (value !== null) out[key] = value;
  // The loop, said in types: the same keys, null gone from every value.
  return out as WithoutNulls<T>;
}

/**
 * The validated body as core's request. chat-schema.ts checks at compile time that every field
 * but the WiderThanCore ones is already core's type; those are narrowed here by name, and
 * checkChatRequest, called next, refuses the bodies for which that narrowing does not hold.
 */
function toChatRequest(body: ChatBody): ChatRequest {
  const stripped = withoutNulls(body);
  const { messages, response_format, tools } = stripped;
  // Spread whole, then overwritten in place, so the fields keep the client's order on the way upstream.
  const passthrough: Omit<typeof stripped, WiderThanCore> = stripped;
  return {
    ...passthrough,
    messages: messages as ChatMessage[],
    ...(response_format && { response_format: response_format as ResponseFormat }),
    ...(tools && { tools: tools as ToolDefinition[] }),
  };
}

export function registerChatCompletions(app: FastifyInstance): void {
  // Typed by the schema: `request.body` is its Static, so the schema is the body's one source.
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.post('/v1/chat/completions', { schema: { body: chatBodySchema }, config: { call: { route: 'chat' } } }, async (request, reply) => {
    const req = toChatRequest(request.body);
    return serveChat(request, reply, req, openAIChatFormat(req.stream_options?.include_usage === true));
  });
}
