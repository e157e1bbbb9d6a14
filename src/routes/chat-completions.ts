import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { planCache } from '../cache/cache-plan.js';
import { replyCachedChat } from '../cache/reply-cached-chat.js';
import { streamThroughCache } from '../cache/serve-cached.js';
import { GatewayError } from '../core/errors.js';
import type { ChatMessage, ChatRequest, ResponseFormat, ToolDefinition } from '../core/types.js';
import { guardRequest } from '../guardrails/guard-request.js';
import { replyChat, replyChatStream } from '../http/render-chat.js';
import { chatBodySchema, type ChatBody, type WiderThanCore, type WithoutNulls } from './chat-schema.js';
import { checkChatRequest } from './check-chat-request.js';
import { callOf } from './call-of.js';
import { routeByBudget, withOutputCap } from '../pipeline/budget-policy.js';

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
    const call = callOf(request);
    checkChatRequest(req);
    const asked = call.services.registry.resolve(req.model);
    // Until the name resolves, the call's model stays unset: a refusal is recorded under the
    // group the name stands for, else `unknown` (call-lifecycle), never under the caller's text.
    if (!asked) {
      throw new GatewayError('model_not_found', `The model '${req.model}' does not exist or is not configured on this gateway`, {
        param: 'model',
      });
    }
    call.model = asked.name;
    const { group, downgraded } = routeByBudget(call.services.registry, asked, request.budgetUse);
    if (downgraded) call.noteBudgetDowngrade();
    const policies = app.gateway.policies.forGroup(group.name);
    const sent = withOutputCap(guardRequest(call, policies.guardrails, req), app.gateway.config.budgets);
    if (policies.cache) {
      const plan = planCache(policies.cache, group.name, sent, request.headers['cache-control']);
      const includeUsage = sent.stream_options?.include_usage === true;
      if (sent.stream) return streamThroughCache(call, reply, app.gateway.cache, plan, includeUsage, (observer) => replyChatStream(call, reply, group, sent, observer));
      return replyCachedChat(call, reply, app.gateway.cache, plan, group, sent);
    }
    if (sent.stream) return replyChatStream(call, reply, group, sent);
    return replyChat(call, reply, group, sent);
  });
}
