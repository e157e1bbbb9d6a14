/**
 * Calls through the response cache, for any route: a hit is answered from the cache (cost 0,
 * recorded with `cache_hit` and the cost it saved); a miss runs the call and hands its answer
 * to the cache once it completed cleanly. The route renders the result (chat completion,
 * prompt answer) and supplies the live call.
 */
import type { FastifyReply } from 'fastify';
import type { ChatChunk } from '../core/types.js';
import { ChunkEncoder, DONE_FRAME } from '../http/openai-format.js';
import { gatewayHeaders } from '../http/gateway-headers.js';
import { SseWriter } from '../http/sse-writer.js';
import type { CallContext } from '../pipeline/call-context.js';
import type { CallOutcome } from '../pipeline/chat-call.js';
import { writeLedger } from '../pipeline/chat-call.js';
import { AnswerCollector } from './answer-collector.js';
import type { CachedAnswer } from './cached-answer.js';
import { initialStatus, type CachePlan, type CacheStatus } from './cache-plan.js';
import { replayChunks } from './replay-chunks.js';
import type { ResponseCache } from './response-cache.js';

export const CACHE_HEADER = 'x-gateway-cache';

/** Sees a live stream go by; `onComplete` comes only for a stream that ended cleanly. */
export interface StreamObserver {
  onChunk(chunk: ChatChunk): void;
  onComplete(outcome: CallOutcome, upstreamModel: string): void;
}

export interface FreshAnswer<T> {
  answer: CachedAnswer;
  attempts: number;
  /** What the route made of the live answer, so a miss is not re-derived from the cached form. */
  value: T;
}

export interface CachedResult<T> {
  status: CacheStatus;
  answer: CachedAnswer;
  attempts: number;
  /** Absent on a hit. */
  value?: T;
}

function recordHit(ctx: CallContext, model: string, answer: CachedAnswer, status: number, ttftMs: number | null): void {
  writeLedger(ctx, model, {
    status,
    provider: answer.provider,
    upstream_model: answer.response.model,
    ttft_ms: ttftMs,
    cache_hit: true,
    cache_status: 'hit',
    saved_cost_nano_usd: answer.costNanoUsd,
  });
}

function markStatus(ctx: CallContext, status: CacheStatus): void {
  ctx.notes = { ...ctx.notes, cache_status: status };
}

/**
 * A non-streamed call through the cache. `fresh` runs the call (its ledger record written as
 * usual, noted as a miss or bypass); its errors propagate after followers were released.
 */
export async function completeThroughCache<T>(
  ctx: CallContext,
  reply: FastifyReply,
  cache: ResponseCache,
  plan: CachePlan,
  model: string,
  fresh: () => Promise<FreshAnswer<T>>,
): Promise<CachedResult<T>> {
  const ticket = await cache.acquire(plan);
  if (ticket.kind === 'hit') {
    reply.header(CACHE_HEADER, 'hit');
    recordHit(ctx, model, ticket.answer, 200, null);
    return { status: 'hit', answer: ticket.answer, attempts: 0 };
  }
  const status = initialStatus(plan);
  reply.header(CACHE_HEADER, status);
  markStatus(ctx, status);
  let result: FreshAnswer<T> | undefined;
  try {
    result = await fresh();
    return { status, ...result };
  } finally {
    cache.complete(plan, ticket, result?.answer);
  }
}

/** Writes a cached answer as an OpenAI SSE stream, chunked like a live one. */
function replayStream(ctx: CallContext, reply: FastifyReply, model: string, answer: CachedAnswer, includeUsage: boolean): void {
  reply.hijack();
  const writer = new SseWriter(reply.raw);
  const upstreamModel = answer.response.model;
  const encoder = new ChunkEncoder(`chatcmpl-${ctx.requestId}`, Math.floor(ctx.startedAt / 1000), upstreamModel);
  writer.open({ ...gatewayHeaders(ctx, answer.provider, upstreamModel, 0), [CACHE_HEADER]: 'hit' });
  // One write: the frames are the stream's chunks, whether they leave in one packet or many.
  let body = '';
  for (const chunk of replayChunks(answer)) body += encoder.encode(chunk);
  if (includeUsage) body += encoder.usageFrame(answer.usage);
  const left = writer.isClosed;
  writer.end(body + DONE_FRAME);
  recordHit(ctx, model, answer, left ? 499 : 200, Date.now() - ctx.startedAt);
}

/**
 * A streamed call through the cache. A hit (or a leader's answer, for a follower) is replayed;
 * otherwise `live` streams from upstream with an observer that hands the answer to the cache
 * when, and only when, the stream completed cleanly.
 */
export async function streamThroughCache(
  ctx: CallContext,
  reply: FastifyReply,
  cache: ResponseCache,
  plan: CachePlan,
  model: string,
  includeUsage: boolean,
  live: (observer?: StreamObserver) => Promise<void>,
): Promise<void> {
  const ticket = await cache.acquire(plan);
  if (ticket.kind === 'hit') return replayStream(ctx, reply, model, ticket.answer, includeUsage);
  const status = initialStatus(plan);
  // The stream's headers are written on the raw response, which merges headers set this way.
  reply.raw.setHeader(CACHE_HEADER, status);
  markStatus(ctx, status);
  if (!plan.write) return live();
  const collector = new AnswerCollector();
  let answer: CachedAnswer | undefined;
  const observer: StreamObserver = {
    onChunk: (chunk) => collector.add(chunk),
    onComplete: (outcome, upstreamModel) => {
      answer = collector.finish({
        provider: outcome.deployment.provider,
        model: upstreamModel,
        created: Math.floor(ctx.startedAt / 1000),
        usage: outcome.usage,
        costNanoUsd: outcome.costNanoUsd,
      });
      // Stored before the client sees [DONE], so its next call finds the answer.
      cache.complete(plan, ticket, answer);
    },
  };
  try {
    await live(observer);
  } finally {
    if (!answer) cache.complete(plan, ticket, undefined);
  }
}
