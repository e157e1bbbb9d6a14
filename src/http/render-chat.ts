/**
 * Renders a chat call as OpenAI's wire format: a `chat.completion` JSON answer, or
 * `chat.completion.chunk` SSE frames ending in `data: [DONE]`. The call runs and settles
 * itself; this module only writes HTTP. Used by `/v1/chat/completions` and the prompt APIs.
 */
import type { FastifyReply } from 'fastify';
import type { ModelGroup } from '../core/deployment.js';
import { GatewayError, toErrorBody } from '../core/errors.js';
import type { ChatChunk, ChatRequest } from '../core/types.js';
import type { Call } from '../pipeline/call.js';
import type { CallStream, StreamEnd } from '../pipeline/call-stream.js';
import { completeChat, openChatStream } from '../pipeline/run-chat.js';
import { nanoToUsd } from '../usage/pricing.js';
import { gatewayHeaders, setFailureHeaders } from './gateway-headers.js';
import { ChunkEncoder, DONE_FRAME, toOpenAICompletion } from './openai-format.js';
import { SseWriter } from './sse-writer.js';

/** Sees a live stream go by (the response cache); `onComplete` comes only for a stream that ended cleanly. */
export interface StreamObserver {
  onChunk(chunk: ChatChunk): void;
  onComplete(end: Extract<StreamEnd, { ok: true }>, provider: string): void;
}

/** Runs `leg`, turning a failure into the client error with its attempt headers set. */
export async function withFailureHeaders<T>(reply: FastifyReply, call: Call, leg: () => Promise<T>): Promise<T> {
  try {
    return await leg();
  } catch (err) {
    setFailureHeaders(reply, call);
    throw err;
  }
}

export async function replyChat(call: Call, reply: FastifyReply, group: ModelGroup, req: ChatRequest): Promise<unknown> {
  const { response, leg } = await withFailureHeaders(reply, call, () => completeChat(call, group, req));
  reply.headers(gatewayHeaders(call, leg.deployment.provider, leg.upstreamModel, call.attempts));
  reply.header('x-gateway-cost-usd', nanoToUsd(leg.costNanoUsd).toFixed(9));
  return toOpenAICompletion(response, `chatcmpl-${call.id}`, leg.usage);
}

/**
 * Streams a chat answer as OpenAI SSE. Failover happens while opening; once the headers are
 * out, an upstream failure ends the stream with one error event and no `[DONE]`.
 */
export async function replyChatStream(call: Call, reply: FastifyReply, group: ModelGroup, req: ChatRequest, observer?: StreamObserver): Promise<void> {
  const stream = await withFailureHeaders(reply, call, () => openChatStream(call, group, req));
  reply.hijack();
  // The group's per-attempt silence limit also bounds how long a client may stop reading.
  await writeChatStream(call, reply, stream, group.timeoutMs, req.stream_options?.include_usage === true, observer);
}

async function writeChatStream(
  call: Call,
  reply: FastifyReply,
  stream: CallStream,
  writeIdleMs: number,
  includeUsage: boolean,
  observer?: StreamObserver,
): Promise<void> {
  const writer = new SseWriter(reply.raw, writeIdleMs);
  const encoder = new ChunkEncoder(`chatcmpl-${call.id}`, Math.floor(call.startedAt / 1000), stream.upstreamModel);
  const end = await stream.drive({
    write(chunk) {
      // The open leg joins the call's attempts when it settles; until then it counts here.
      if (!writer.isOpen) writer.open(gatewayHeaders(call, stream.deployment.provider, encoder.upstreamModel, call.attempts + stream.attempts));
      observer?.onChunk(chunk);
      if (chunk.type === 'meta' && chunk.model) encoder.setModel(chunk.model);
      return writer.write(encoder.encode(chunk));
    },
    get isClosed() {
      return writer.isClosed;
    },
  });
  if (end.ok) {
    observer?.onComplete(end, stream.deployment.provider);
    writer.end(includeUsage ? encoder.usageFrame(end.usage) + DONE_FRAME : DONE_FRAME);
    return;
  }
  if (end.abandoned) {
    writer.end();
    return;
  }
  const { error } = end;
  if (error instanceof GatewayError) {
    call.log.warn({ code: error.code, cause: error.cause }, `stream failed after it started: ${error.message}`);
    if (writer.isOpen) writer.fail(toErrorBody(error));
    else reply.raw.destroy();
  }
}
