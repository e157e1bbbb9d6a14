/**
 * One attempt of a service call on undici's dispatch API: the upstream's answer goes from the
 * socket to the client's response chunk by chunk, with no Readable, pipe or listeners between
 * them. A bare pass-through built this way cost 0.58× the CPU per request of a bare Fastify +
 * reply-from one (interleaved A/B), which leaves room for the gateway's own work (headers,
 * health, ledger) within the REST target.
 *
 * What to do with an answer or a failure is the caller's (forward-call.ts); this class only
 * moves bytes, honours the client's backpressure and reports how the attempt went.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { ServiceCall } from './service-call.js';
import type { ServiceTarget } from './target-pool.js';

/** What the attempt tells the code that started it; one object per service, not per call. */
export interface AttemptEvents {
  /**
   * The upstream's status line and headers came. True: stream this answer to the client (the
   * caller has written the head); false: drop it (another target takes over).
   */
  answer(attempt: ServiceAttempt, status: number, headers: IncomingHttpHeaders): boolean;
  /** The attempt failed: before its answer streamed (`streaming` false), or mid-body. */
  failed(attempt: ServiceAttempt, err: Error): void;
}

export class ServiceAttempt implements Dispatcher.DispatchHandler {
  /** The answer is going to the client. */
  streaming = false;
  /** The answer was dropped; what is left of it is read and ignored, so the connection stays reusable. */
  private dropped = false;
  private finished = false;
  /** The client left before undici started the request: stop it as it starts. */
  private stopBeforeStart = false;
  private controller: Dispatcher.DispatchController | undefined;
  private resumeOnDrain: (() => void) | undefined;
  private readonly res: ServerResponse;

  constructor(
    private readonly events: AttemptEvents,
    readonly call: ServiceCall,
    readonly target: ServiceTarget,
    readonly request: FastifyRequest,
    readonly reply: FastifyReply,
  ) {
    this.res = reply.raw;
  }

  /** Stops the attempt (the client left); the failure it causes comes back through `failed`. */
  abort(): void {
    if (this.finished) return;
    if (this.controller) this.controller.abort(new Error('the client closed the connection'));
    else this.stopBeforeStart = true;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.stopBeforeStart) controller.abort(new Error('the client closed the connection'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (this.events.answer(this, status, headers)) this.streaming = true;
    else this.dropped = true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.streaming) return;
    this.call.countedResponseBytes += chunk.length;
    if (this.res.write(chunk)) return;
    // The client reads slower than the upstream sends: hold the upstream until it catches up.
    controller.pause();
    this.resumeOnDrain ??= () => this.controller?.resume();
    this.res.once('drain', this.resumeOnDrain);
  }

  onResponseEnd(): void {
    this.finished = true;
    if (this.resumeOnDrain) this.res.off('drain', this.resumeOnDrain);
    if (this.streaming) this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.finished) return;
    this.finished = true;
    if (this.resumeOnDrain) this.res.off('drain', this.resumeOnDrain);
    if (this.dropped) return;
    this.events.failed(this, err);
  }
}
