import { CallAbort, type CallSignal } from '../core/call-signal.js';
import { UpstreamError } from '../core/upstream-error.js';
import type { ClientLink } from './client-link.js';

/** Why a call was abandoned because the client went away (not an upstream fault). */
export class ClientClosedError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientClosedError';
  }
}

/**
 * The abort signal of one upstream attempt, a CallSignal (call-signal.ts): aborts when the
 * client leaves (the call's link), when the attempt has been silent for `timeoutMs` (no answer
 * yet, or no stream chunk since the last), or when the overall deadline passes. `touch()`
 * marks activity.
 *
 * One timer per attempt, re-armed only when it fires: a stream calls `touch()` per chunk, and
 * resetting a timer per chunk costs more than the chunk's own mapping. When the timer fires
 * after activity, it waits out the rest of the silence window from the last touch instead.
 */
export class AttemptSignal {
  // Not an AbortController: see call-signal.ts for what a Node AbortSignal per attempt costs.
  private readonly controller = new CallAbort();
  private timer: NodeJS.Timeout | undefined;
  private lastActivity: number;
  private readonly onTimer = () => this.check();

  constructor(
    private readonly client: ClientLink,
    private readonly timeoutMs: number,
    private readonly deadlineAt: number | undefined,
    private readonly provider: string,
  ) {
    this.lastActivity = Date.now();
    // The attempt is the link's listener itself (handleEvent): no closure per attempt.
    if (client.left) this.controller.abort(client.reason);
    else client.addEventListener('abort', this);
    this.arm(this.limitFrom(this.lastActivity));
  }

  get signal(): CallSignal {
    return this.controller;
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client.removeEventListener('abort', this);
  }

  /** The client left. */
  handleEvent(): void {
    this.controller.abort(this.client.reason);
  }

  /** ms from `now` until silence or the deadline ends the attempt. */
  private limitFrom(now: number): number {
    let wait = this.timeoutMs - (now - this.lastActivity);
    if (this.deadlineAt !== undefined) wait = Math.min(wait, this.deadlineAt - now);
    return Math.max(0, wait);
  }

  private arm(wait: number): void {
    if (this.controller.aborted) return;
    this.timer = setTimeout(this.onTimer, wait);
    // A pending timer must not keep a draining process alive.
    this.timer.unref();
  }

  private check(): void {
    const now = Date.now();
    const left = this.limitFrom(now);
    if (left > 0) return this.arm(left);
    const silent = now - this.lastActivity >= this.timeoutMs;
    const message = silent ? `${this.provider} did not answer within ${this.timeoutMs} ms` : `${this.provider} did not answer before the call's deadline`;
    this.controller.abort(new UpstreamError({ kind: 'timeout', provider: this.provider, message }));
  }
}
