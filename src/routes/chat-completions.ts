import type { FastifyInstance } from 'fastify';
import { planCache } from '../cache/cache-plan.js';
import { replyCachedChat } from '../cache/reply-cached-chat.js';
import { streamThroughCache } from '../cache/serve-cached.js';
import { GatewayError } from '../core/errors.js';
import type { ChatRequest } from '../core/types.js';
import { guardRequest } from '../guardrails/guard-request.js';
import { replyChat, replyChatStream } from '../http/render-chat.js';
import { chatBodySchema } from './chat-schema.js';
import { checkChatRequest } from './check-chat-request.js';
import { callOf } from './call-of.js';

/** Fields clients may send as null mean "not set" to the adapters. */
function withoutNulls(body: Record<string, unknown>): ChatRequest {
  const out: Record<string, unknown> = {};
  for (const key in body) if (body[key] !== null) out[key] = body[key];
  return out as unknown as ChatRequest;
}

export function registerChatCompletions(app: FastifyInstance): void {
  app.post('/v1/chat/completions', { schema: { body: chatBodySchema }, config: { call: { route: 'chat' } } }, async (request, reply) => {
    const req = withoutNulls(request.body as Record<string, unknown>);
    const call = callOf(request);
    call.model = req.model;
    checkChatRequest(req);
    const group = call.services.registry.resolve(req.model);
    if (!group) {
      throw new GatewayError('model_not_found', `The model '${req.model}' does not exist or is not configured on this gateway`, {
        param: 'model',
      });
    }
    call.model = group.name;
    const policies = app.gateway.policies.forGroup(group.name);
    const sent = guardRequest(call, policies.guardrails, req);
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
