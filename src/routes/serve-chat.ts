/**
 * The one flow every chat-shaped route runs once it has a canonical request: resolve the model
 * group, apply the caller's budget policy, guardrails and output cap, then answer through the
 * response cache or straight from the pipeline, rendered in the route's format. Routes differ
 * only in how they read their body and which ChatFormat they write (src/http/chat-format.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { planCache } from '../cache/cache-plan.js';
import { replyCachedChat } from '../cache/reply-cached-chat.js';
import { streamThroughCache } from '../cache/serve-cached.js';
import type { ChatRequest } from '../core/types.js';
import { guardRequest } from '../guardrails/guard-request.js';
import type { ChatFormat } from '../http/chat-format.js';
import { replyChat, replyChatStream } from '../http/render-chat.js';
import { routeByBudget, withOutputCap } from '../pipeline/budget-policy.js';
import { callOf } from './call-of.js';
import { checkChatRequest } from './check-chat-request.js';
import { modelNotServed } from './model-not-served.js';

/** Answers `req` in `format`: the JSON body to send, or undefined once a stream was written. */
export async function serveChat(request: FastifyRequest, reply: FastifyReply, req: ChatRequest, format: ChatFormat): Promise<unknown> {
  const { gateway } = request.server;
  const call = callOf(request);
  checkChatRequest(req);
  const asked = call.services.registry.resolve(req.model);
  // Until the name resolves, the call's model stays unset: a refusal is recorded under the
  // group the name stands for, else `unknown` (call-lifecycle), never under the caller's text.
  if (!asked) throw await modelNotServed(request, call.services.registry, req.model);
  call.model = asked.name;
  const { group, downgraded } = routeByBudget(call.services.registry, asked, request.budgetUse);
  if (downgraded) call.noteBudgetDowngrade();
  const policies = gateway.policies.forGroup(group.name);
  const sent = withOutputCap(guardRequest(call, policies.guardrails, req), gateway.config.budgets);
  if (policies.cache) {
    const plan = planCache(policies.cache, group.name, sent, request.headers['cache-control']);
    if (sent.stream) return streamThroughCache(call, reply, gateway.cache, plan, format, (observer) => replyChatStream(call, reply, format, group, sent, observer));
    return replyCachedChat(call, reply, format, gateway.cache, plan, group, sent);
  }
  if (sent.stream) return replyChatStream(call, reply, format, group, sent);
  return replyChat(call, reply, format, group, sent);
}
