/**
 * Renders a chat call in the client's format (src/http/chat-format.ts): a JSON answer, or SSE
 * frames. The call runs and settles itself; this module only writes HTTP.
 */
import type { FastifyReply } from 'fastify';
import type { ModelGroup } from '../core/deployment.js';
import { GatewayError } from '../core/errors.js';
import type { ChatChunk, ChatRequest } from '../core/types.js';
import type { Call } from '../pipeline/call.js';
import type { CallStream, StreamEnd, StreamSink } from '../pipeline/call-stream.js';
import { completeChat, openChatStream } from '../pipeline/run-chat.js';
import { nanoToUsd } from '../usage/pricing.js';
import { gatewayHeaders, setFailureHeaders } from './gateway-headers.js';
import type { ChatFormat, ChatStreamEncoder } from './chat-format.js';
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

export async function replyChat(call: Call, reply: FastifyReply, format: ChatFormat, group: ModelGroup, req: ChatRequest): Promise<unknown> {
  const { response, leg } = await withFailureHeaders(reply, call, () => completeChat(call, group, req));
  reply.headers(gatewayHeaders(call, leg.deployment.provider, leg.upstreamModel, call.attempts));
  reply.header('x-gateway-cost-usd', nanoToUsd(leg.costNanoUsd).toFixed(9));
  return format.renderResponse(call, response, leg.usage, { upstreamModel: leg.upstreamModel, provider: leg.deployment.provider });
}

/**
 * Streams a chat answer as SSE in the client's format. Failover happens while opening; once
 * the headers are out, an upstream failure ends the stream with the format's error frames.
 */
export async function replyChatStream(call: Call, reply: FastifyReply, format: ChatFormat, group: ModelGroup, req: ChatRequest, observer?: StreamObserver): Promise<void> {
  const stream = await withFailureHeaders(reply, call, () => openChatStream(call, group, req));
  reply.hijack();
  // The group's per-attempt silence limit also bounds how long a client may stop reading.
  await writeChatStream(call, reply, format, stream, group.timeoutMs, observer);
}

/**
 * The route's side of a stream: chunks in, the format's frames out. A class, not an object
 * literal made per call: a literal with a getter gets a map of its own each time, V8 links
 * every one of them from the shared map it came from, and young GCs keep what those links
 * reach alive. With a literal here, each stream's whole object graph (request, response, call,
 * chunks) was promoted: ~6.9 KB per stream, 8-9% of what a stream allocates; with the class,
 * 0.2-0.5 KB (`--trace-gc-nvp`).
 */
class ChatStreamSink implements StreamSink {
  constructor(
    private readonly call: Call,
    private readonly stream: CallStream,
    private readonly writer: SseWriter,
    private readonly encoder: ChatStreamEncoder,
    private readonly observer: StreamObserver | undefined,
  ) {}

  write(chunk: ChatChunk): void | Promise<void> {
    const { writer, encoder, call, stream } = this;
    // The open leg joins the call's attempts when it settles; until then it counts here.
    if (!writer.isOpen) writer.open(gatewayHeaders(call, stream.deployment.provider, encoder.upstreamModel, call.attempts + stream.attempts));
    this.observer?.onChunk(chunk);
    if (chunk.type === 'meta' && chunk.model) encoder.setModel(chunk.model);
    return writer.write(encoder.encode(chunk));
  }

  get isClosed(): boolean {
    return this.writer.isClosed;
  }
}

async function writeChatStream(call: Call, reply: FastifyReply, format: ChatFormat, stream: CallStream, writeIdleMs: number, observer?: StreamObserver): Promise<void> {
  const writer = new SseWriter(reply.raw, writeIdleMs);
  const encoder = format.streamEncoder(call, stream.upstreamModel);
  const end = await stream.drive(new ChatStreamSink(call, stream, writer, encoder, observer));
  if (end.ok) {
    observer?.onComplete(end, stream.deployment.provider);
    const closing = encoder.end(end.usage);
    writer.end(typeof closing === 'string' ? closing : await closing);
    return;
  }
  if (end.abandoned) {
    writer.end();
    return;
  }
  const { error } = end;
  if (error instanceof GatewayError) {
    call.log.warn({ code: error.code, cause: error.cause }, `stream failed after it started: ${error.message}`);
    if (writer.isOpen) writer.end(encoder.fail(error));
    else reply.raw.destroy();
  }
}
