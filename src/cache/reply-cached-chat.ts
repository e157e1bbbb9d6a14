/**
 * Non-streamed chat answers for model groups with a response cache: JSON through
 * `completeThroughCache`, rendered in the client's format like a live answer; a hit says
 * `x-gateway-cost-usd: 0`.
 */
import type { FastifyReply } from 'fastify';
import type { ModelGroup } from '../core/deployment.js';
import type { ChatRequest } from '../core/types.js';
import { gatewayHeaders } from '../http/gateway-headers.js';
import type { ChatFormat } from '../http/chat-format.js';
import { withFailureHeaders } from '../http/render-chat.js';
import type { Call } from '../pipeline/call.js';
import { completeChat } from '../pipeline/run-chat.js';
import { nanoToUsd } from '../usage/pricing.js';
import { answerFromCompleted } from './cached-answer.js';
import type { CachePlan } from './cache-plan.js';
import type { ResponseCache } from './response-cache.js';
import { completeThroughCache } from './serve-cached.js';

export async function replyCachedChat(
  call: Call,
  reply: FastifyReply,
  format: ChatFormat,
  cache: ResponseCache,
  plan: CachePlan,
  group: ModelGroup,
  req: ChatRequest,
): Promise<unknown> {
  const result = await withFailureHeaders(reply, call, () =>
    completeThroughCache(call, reply, cache, plan, async () => {
      const done = await completeChat(call, group, req);
      return { answer: answerFromCompleted(done), attempts: done.leg.attempts, value: undefined };
    }),
  );
  const { answer } = result;
  reply.headers(gatewayHeaders(call, answer.provider, answer.response.model, result.attempts));
  reply.header('x-gateway-cost-usd', nanoToUsd(result.status === 'hit' ? 0 : answer.costNanoUsd).toFixed(9));
  return format.renderResponse(call, answer.response, answer.usage, { upstreamModel: answer.response.model, provider: answer.provider });
}
