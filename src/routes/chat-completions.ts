import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { planCache } from '../cache/cache-plan.js';
import { replyCachedChat } from '../cache/reply-cached-chat.js';
import { streamThroughCache, type StreamObserver } from '../cache/serve-cached.js';
import { GatewayError, toErrorBody } from '../core/errors.js';
import type { ChatRequest } from '../core/types.js';
import { guardRequest } from '../guardrails/guard-request.js';
import { gatewayHeaders, toHeaderValue } from '../http/gateway-headers.js';
import { ChunkEncoder, DONE_FRAME, toOpenAICompletion } from '../http/openai-format.js';
import { SseWriter } from '../http/sse-writer.js';
import type { CallContext } from '../pipeline/call-context.js';
import { asClientError, CallFailed, completeChat, openChatStream, statusOf } from '../pipeline/chat-call.js';
import type { ModelGroup } from '../core/deployment.js';
import { nanoToUsd } from '../usage/pricing.js';
import { chatBodySchema } from './chat-schema.js';
import { checkChatRequest } from './check-chat-request.js';

export { gatewayHeaders };

function failedHeaders(reply: FastifyReply, failure: CallFailed): void {
  reply.header('x-gateway-attempts', String(failure.attempts));
  if (failure.deployment) {
    reply.header('x-gateway-provider', toHeaderValue(failure.deployment.provider));
    reply.header('x-gateway-model', toHeaderValue(failure.deployment.model));
  }
}

/** Throws the client-facing error of a failed call, with its attempt headers set. */
export function rethrowFailure(reply: FastifyReply, err: unknown): never {
  if (err instanceof CallFailed) {
    failedHeaders(reply, err);
    throw err.error;
  }
  throw err;
}

export async function replyChat(ctx: CallContext, reply: FastifyReply, group: ModelGroup, req: ChatRequest): Promise<unknown> {
  let done;
  try {
    done = await completeChat(ctx, group, req);
  } catch (err) {
    rethrowFailure(reply, err);
  }
  const upstreamModel = done.response.model || done.deployment.model;
  reply.headers(gatewayHeaders(ctx, done.deployment.provider, upstreamModel, done.attempts));
  reply.header('x-gateway-cost-usd', nanoToUsd(done.costNanoUsd).toFixed(9));
  return toOpenAICompletion(done.response, `chatcmpl-${ctx.requestId}`, done.usage);
}

/**
 * Streams a chat answer as OpenAI SSE. Failover happens while opening; once the headers are
 * out, an upstream failure ends the stream with one error event and no `[DONE]`.
 */
export async function replyChatStream(ctx: CallContext, reply: FastifyReply, group: ModelGroup, req: ChatRequest, observer?: StreamObserver): Promise<void> {
  let opened;
  try {
    opened = await openChatStream(ctx, group, req);
  } catch (err) {
    rethrowFailure(reply, err);
  }
  reply.hijack();
  const writer = new SseWriter(reply.raw);
  const encoder = new ChunkEncoder(`chatcmpl-${ctx.requestId}`, Math.floor(ctx.startedAt / 1000), opened.deployment.model);
  for (const chunk of opened.buffered) if (chunk.type === 'meta' && chunk.model) encoder.setModel(chunk.model);
  const includeUsage = req.stream_options?.include_usage === true;
  try {
    writer.open(gatewayHeaders(ctx, opened.deployment.provider, encoder.upstreamModel, opened.attempts));
    for (const chunk of opened.buffered) {
      observer?.onChunk(chunk);
      await writer.write(encoder.encode(chunk));
    }
    for (;;) {
      const next = await opened.rest.next();
      if (next.done) break;
      opened.signal.touch();
      observer?.onChunk(next.value);
      const pending = writer.write(encoder.encode(next.value));
      if (pending) await pending;
      if (writer.isClosed) break;
    }
    if (writer.isClosed) {
      // The client left mid-stream: stop the upstream and bill what was produced.
      opened.signal.dispose();
      await opened.rest.return?.();
      opened.finish({ status: 499, errorCode: 'client_closed', reported: encoder.usage, producedText: encoder.producedText, upstreamModel: encoder.upstreamModel });
      return;
    }
    const outcome = opened.finish({ status: 200, reported: encoder.usage, producedText: encoder.producedText, upstreamModel: encoder.upstreamModel });
    observer?.onComplete(outcome, encoder.upstreamModel);
    writer.end(includeUsage ? encoder.usageFrame(outcome.usage) + DONE_FRAME : DONE_FRAME);
  } catch (err) {
    const failure = asClientError(err);
    // Whatever failed, the upstream stream must not go on producing for nobody.
    opened.signal.dispose();
    void opened.rest.return?.()?.catch(() => undefined);
    opened.finish({
      status: statusOf(failure),
      errorCode: failure instanceof GatewayError ? failure.code : 'client_closed',
      reported: encoder.usage,
      producedText: encoder.producedText,
      upstreamModel: encoder.upstreamModel,
    });
    if (failure instanceof GatewayError) {
      ctx.log.warn({ code: failure.code, cause: failure.cause }, `stream failed after it started: ${failure.message}`);
      if (writer.isOpen) writer.fail(toErrorBody(failure));
      else reply.raw.destroy();
    } else writer.end();
  }
}

/** Fields clients may send as null mean "not set" to the adapters. */
function withoutNulls(body: Record<string, unknown>): ChatRequest {
  const out: Record<string, unknown> = {};
  for (const key in body) if (body[key] !== null) out[key] = body[key];
  return out as unknown as ChatRequest;
}

export type ContextFactory = (request: FastifyRequest, reply: FastifyReply, route: string) => CallContext;

export function registerChatCompletions(app: FastifyInstance, makeContext: ContextFactory): void {
  app.post('/v1/chat/completions', { schema: { body: chatBodySchema } }, async (request, reply) => {
    const req = withoutNulls(request.body as Record<string, unknown>);
    checkChatRequest(req);
    const ctx = makeContext(request, reply, 'chat');
    const group = ctx.services.registry.resolve(req.model);
    if (!group) {
      throw new GatewayError('model_not_found', `The model '${req.model}' does not exist or is not configured on this gateway`, {
        param: 'model',
      });
    }
    const policies = app.gateway.policies.forGroup(group.name);
    const sent = guardRequest(ctx, group.name, policies.guardrails, req);
    if (policies.cache) {
      const plan = planCache(policies.cache, group.name, sent, request.headers['cache-control']);
      const includeUsage = sent.stream_options?.include_usage === true;
      if (sent.stream) return streamThroughCache(ctx, reply, app.gateway.cache, plan, group.name, includeUsage, (observer) => replyChatStream(ctx, reply, group, sent, observer));
      try {
        return await replyCachedChat(ctx, reply, app.gateway.cache, plan, group, sent);
      } catch (err) {
        rethrowFailure(reply, err);
      }
    }
    if (sent.stream) return replyChatStream(ctx, reply, group, sent);
    return replyChat(ctx, reply, group, sent);
  });
}
