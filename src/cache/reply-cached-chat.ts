/**
 * `/v1/chat/completions` answers for model groups with a response cache: JSON through
 * `completeThroughCache`, rendered like a live answer; a hit says `x-gateway-cost-usd: 0`.
 */
import type { FastifyReply } from 'fastify';
import type { ChatRequest } from '../core/types.js';
import { gatewayHeaders } from '../http/gateway-headers.js';
import { toOpenAICompletion } from '../http/openai-format.js';
import type { CallContext } from '../pipeline/call-context.js';
import { completeChat } from '../pipeline/chat-call.js';
import type { ModelGroup } from '../core/deployment.js';
import { nanoToUsd } from '../usage/pricing.js';
import { answerFromCompleted } from './cached-answer.js';
import type { CachePlan } from './cache-plan.js';
import type { ResponseCache } from './response-cache.js';
import { completeThroughCache } from './serve-cached.js';

/** Throws CallFailed when a fresh call fails (the route adds its attempt headers). */
export async function replyCachedChat(ctx: CallContext, reply: FastifyReply, cache: ResponseCache, plan: CachePlan, group: ModelGroup, req: ChatRequest): Promise<unknown> {
  const result = await completeThroughCache(ctx, reply, cache, plan, group.name, async () => {
    const done = await completeChat(ctx, group, req);
    return { answer: answerFromCompleted(done), attempts: done.attempts, value: undefined };
  });
  const { answer } = result;
  reply.headers(gatewayHeaders(ctx, answer.provider, answer.response.model, result.attempts));
  reply.header('x-gateway-cost-usd', nanoToUsd(result.status === 'hit' ? 0 : answer.costNanoUsd).toFixed(9));
  return toOpenAICompletion(answer.response, `chatcmpl-${ctx.requestId}`, answer.usage);
}
