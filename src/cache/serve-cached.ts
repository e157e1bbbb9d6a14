/**
 * Calls through the response cache, for any route: a hit is answered from the cache (cost 0,
 * recorded with `cache_hit` and the cost it saved); a miss runs the call and hands its answer
 * to the cache once it completed cleanly. The route renders the result (chat completion,
 * prompt answer) and supplies the live call.
 */
import type { FastifyReply } from 'fastify';
import type { ChatFormat } from '../http/chat-format.js';
import { gatewayHeaders } from '../http/gateway-headers.js';
import type { StreamObserver } from '../http/render-chat.js';
import { SseWriter } from '../http/sse-writer.js';
import type { Call } from '../pipeline/call.js';
import { AnswerCollector } from './answer-collector.js';
import type { CachedAnswer } from './cached-answer.js';
import { initialStatus, type CachePlan, type CacheStatus } from './cache-plan.js';
import { replayChunks } from './replay-chunks.js';
import type { ResponseCache } from './response-cache.js';

export const CACHE_HEADER = 'x-gateway-cache';

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

function noteHit(call: Call, answer: CachedAnswer, ttftMs: number | null): void {
  call.noteCacheHit({ provider: answer.provider, upstreamModel: answer.response.model, costNanoUsd: answer.costNanoUsd }, ttftMs);
}

/**
 * A non-streamed call through the cache. `fresh` runs the call (its ledger record written as
 * usual, noted as a miss or bypass); its errors propagate after followers were released.
 */
export async function completeThroughCache<T>(
  call: Call,
  reply: FastifyReply,
  cache: ResponseCache,
  plan: CachePlan,
  fresh: () => Promise<FreshAnswer<T>>,
): Promise<CachedResult<T>> {
  const ticket = await cache.acquire(plan);
  if (ticket.kind === 'hit') {
    reply.header(CACHE_HEADER, 'hit');
    noteHit(call, ticket.answer, null);
    return { status: 'hit', answer: ticket.answer, attempts: 0 };
  }
  const status = initialStatus(plan);
  reply.header(CACHE_HEADER, status);
  call.noteCache(status);
  let result: FreshAnswer<T> | undefined;
  try {
    result = await fresh();
    return { status, ...result };
  } finally {
    cache.complete(plan, ticket, result?.answer);
  }
}

/** Writes a cached answer as an SSE stream in the client's format, chunked like a live one. */
async function replayStream(call: Call, reply: FastifyReply, format: ChatFormat, answer: CachedAnswer): Promise<void> {
  reply.hijack();
  // No model group is at hand for a hit: the server-wide limit on a client that stopped reading.
  const writer = new SseWriter(reply.raw, reply.server.gateway.config.server.write_idle_ms);
  const upstreamModel = answer.response.model;
  const encoder = format.streamEncoder(call, upstreamModel);
  writer.open({ ...gatewayHeaders(call, answer.provider, upstreamModel, 0), [CACHE_HEADER]: 'hit' });
  // One write: the frames are the stream's chunks, whether they leave in one packet or many.
  let body = '';
  for (const chunk of replayChunks(answer)) body += encoder.encode(chunk);
  body += await encoder.end(answer.usage);
  const left = writer.isClosed;
  writer.end(body);
  noteHit(call, answer, call.now() - call.startedAt);
  call.settle({ status: left ? 499 : 200 });
}

/**
 * A streamed call through the cache. A hit (or a leader's answer, for a follower) is replayed;
 * otherwise `live` streams from upstream with an observer that hands the answer to the cache
 * when, and only when, the stream completed cleanly.
 */
export async function streamThroughCache(
  call: Call,
  reply: FastifyReply,
  cache: ResponseCache,
  plan: CachePlan,
  format: ChatFormat,
  live: (observer?: StreamObserver) => Promise<void>,
): Promise<void> {
  const ticket = await cache.acquire(plan);
  if (ticket.kind === 'hit') return replayStream(call, reply, format, ticket.answer);
  const status = initialStatus(plan);
  // The stream's headers are written on the raw response, which merges headers set this way.
  reply.raw.setHeader(CACHE_HEADER, status);
  call.noteCache(status);
  if (!plan.write) return live();
  const collector = new AnswerCollector();
  let answer: CachedAnswer | undefined;
  const observer: StreamObserver = {
    onChunk: (chunk) => collector.add(chunk),
    onComplete: (end, provider) => {
      answer = collector.finish({
        provider,
        model: end.upstreamModel,
        created: Math.floor(call.startedAt / 1000),
        usage: end.usage,
        costNanoUsd: end.costNanoUsd,
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
