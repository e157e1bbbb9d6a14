/**
 * A streamed leg once its first content chunk arrived. The route hands it a sink and the
 * stream drives itself: it taps usage and the text produced, resets the attempt's idle timer
 * per chunk, and in its `finally` reports to the balancer and settles the call exactly once,
 * whatever ended it (finish, upstream error, a stream cut without a finish, the client gone,
 * a timeout, a render error thrown by the sink).
 */
import type { Deployment } from '../core/deployment.js';
import type { GatewayError } from '../core/errors.js';
import { assertNever, type ChatChunk, type ChatRequest, type FinishReason, type Usage } from '../core/types.js';
import { protocolError } from '../core/upstream-error.js';
import { ClientClosedError, type AttemptSignal } from './attempt-signal.js';
import type { Call } from './call.js';
import type { AttemptTrace } from './call-trace.js';
import { statusOf, toClientError } from './client-error.js';
import type { AttemptSuccess } from './run-attempts.js';
import { estimateUsage, legOf } from './leg.js';

export interface OpenedUpstream {
  iterator: AsyncIterator<ChatChunk[]>;
  /** Chunks read while opening (meta, up to the batch with the first content chunk), written first. */
  buffered: ChatChunk[];
  /** False when the upstream ended before any content: a failure to fail over from. */
  hasContent: boolean;
}

export async function openOnce(deployment: Deployment, req: ChatRequest, signal: AttemptSignal): Promise<OpenedUpstream> {
  const iterator = deployment.adapter.stream(req, signal.signal)[Symbol.asyncIterator]();
  const buffered: ChatChunk[] = [];
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { iterator, buffered, hasContent: false };
    let hasContent = false;
    for (const chunk of next.value) {
      buffered.push(chunk);
      if (chunk.type !== 'meta') hasContent = true;
    }
    if (hasContent) return { iterator, buffered, hasContent };
  }
}

/** Where a stream's chunks go: the route's renderer on the client's socket. */
export interface StreamSink {
  /** Writes one chunk; returns a promise only when the socket asks for backpressure. */
  write(chunk: ChatChunk): void | Promise<void>;
  /** True once the client is gone. */
  readonly isClosed: boolean;
}

export type StreamEnd =
  | { ok: true; usage: Usage; costNanoUsd: number; upstreamModel: string }
  /** The client left: nothing more to write. */
  | { ok: false; abandoned: true }
  | { ok: false; abandoned: false; error: GatewayError | ClientClosedError };

export class CallStream {
  readonly deployment: Deployment;
  readonly attempts: number;
  /** The upstream's model name as its first chunks told it, else the deployment's. */
  readonly upstreamModel: string;
  private readonly signal: AttemptSignal;
  private readonly span: AttemptTrace | undefined;
  private readonly opened: OpenedUpstream;
  private readonly attemptStartedAt: number;
  private readonly ttftMs: number;
  private driven = false;

  constructor(
    private readonly call: Call,
    private readonly req: ChatRequest,
    success: AttemptSuccess<OpenedUpstream>,
  ) {
    this.deployment = success.deployment;
    this.attempts = success.attempts;
    this.signal = success.signal;
    this.span = success.span;
    this.opened = success.value;
    this.attemptStartedAt = success.startedAt;
    this.ttftMs = call.now() - call.startedAt;
    let model = success.deployment.model;
    for (const chunk of success.value.buffered) if (chunk.type === 'meta' && chunk.model) model = chunk.model;
    this.upstreamModel = model;
  }

  /**
   * Streams every chunk into `sink`, then settles the call. Never throws; says how it ended.
   * Runs as a leg of the call, so a client that leaves mid-stream is settled here, with what
   * was produced, and not by the connection's close.
   */
  drive(sink: StreamSink): Promise<StreamEnd> {
    if (this.driven) throw new Error('a call stream is driven once');
    this.driven = true;
    return this.call.runLeg(() => this.pump(sink));
  }

  private async pump(sink: StreamSink): Promise<StreamEnd> {
    const { iterator, buffered } = this.opened;
    let produced = '';
    let reported: Usage | undefined;
    let finished = false;
    let model = this.upstreamModel;
    // Only a traced call reads them: an untraced stream keeps no list.
    const finishReasons: FinishReason[] | undefined = this.call.trace ? [] : undefined;
    const tap = (chunk: ChatChunk): void => {
      switch (chunk.type) {
        case 'text-delta':
          produced += chunk.text;
          break;
        case 'tool-call-delta':
          produced += (chunk.name ?? '') + chunk.argumentsDelta;
          break;
        case 'finish':
          finished = true;
          finishReasons?.push(chunk.finishReason);
          break;
        case 'usage':
          reported = chunk.usage;
          break;
        case 'meta':
          if (chunk.model) model = chunk.model;
          break;
        default:
          assertNever(chunk);
      }
    };
    let failure: unknown;
    let abandoned = false;
    try {
      // An upstream that sends its whole answer at once leaves all of it here; as below, a
      // write is awaited only when the client's socket asks for backpressure.
      for (const chunk of buffered) {
        tap(chunk);
        const pending = sink.write(chunk);
        if (pending) await pending;
      }
      while (!sink.isClosed) {
        const next = await iterator.next();
        if (next.done) break;
        this.signal.touch();
        // All of a batch is tapped, written or not: the provider produced it, and bills it.
        const batch = next.value;
        for (let i = 0; i < batch.length; i++) {
          tap(batch[i]!);
          if (sink.isClosed) continue;
          const pending = sink.write(batch[i]!);
          if (pending) await pending;
        }
      }
      if (sink.isClosed) abandoned = true;
      else if (!finished) throw protocolError(this.deployment.provider, `${this.deployment.provider} ended the stream before the answer finished`);
    } catch (err) {
      failure = err;
    } finally {
      this.signal.dispose();
      // Whatever ended it, the upstream must not go on producing for nobody.
      if (abandoned || failure !== undefined) void iterator.return?.()?.catch(() => undefined);
    }
    const leg = await legOf(this.deployment, this.attempts, reported, () => estimateUsage(this.req, produced), model);
    leg.ttftMs = this.ttftMs;
    const error = failure === undefined ? undefined : this.call.client.left ? new ClientClosedError() : toClientError(failure);
    const upstreamFailed = error !== undefined && statusOf(error) >= 500;
    this.call.services.balancer.finished({
      deployment: this.deployment,
      ok: !upstreamFailed,
      latencyMs: Date.now() - this.attemptStartedAt,
      ttftMs: this.ttftMs,
      tokens: leg.usage.promptTokens + leg.usage.completionTokens,
      error: upstreamFailed ? failure : undefined,
    });
    this.span?.end(upstreamFailed ? failure : undefined);
    if (finishReasons && finishReasons.length > 0) this.call.trace?.noteFinishReasons(finishReasons);
    this.call.trace?.noteOutput(produced);
    if (error) {
      this.call.addFailure(error, this.attempts, this.deployment, leg);
      this.call.settle({ status: statusOf(error) });
      return error instanceof ClientClosedError ? { ok: false, abandoned: true } : { ok: false, abandoned: false, error };
    }
    if (abandoned) {
      this.call.addFailure(new ClientClosedError(), this.attempts, this.deployment, leg);
      this.call.settle({ status: 499 });
      return { ok: false, abandoned: true };
    }
    this.call.addLeg(leg);
    this.call.settle({ status: 200 });
    return { ok: true, usage: leg.usage, costNanoUsd: leg.costNanoUsd, upstreamModel: model };
  }
}
