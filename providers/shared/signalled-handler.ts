/**
 * The part of an undici dispatch handler that ties its request to the attempt's CallSignal:
 * the handler is the signal's listener itself (its `handleEvent`), so no closure is made per
 * request. An abort before the request started is heard at once and stops it when it does.
 */
import type { Dispatcher } from 'undici';
import type { CallSignal } from '../../src/core/call-signal.js';

export abstract class SignalledHandler {
  protected controller: Dispatcher.DispatchController | undefined;

  constructor(protected readonly signal: CallSignal) {
    if (!signal.aborted) signal.addEventListener('abort', this);
  }

  /** The signal aborted. */
  handleEvent(): void {
    const reason: unknown = this.signal.reason;
    if (this.controller) this.controller.abort(reason as Error);
    // Not started yet (queued in the pool): the caller hears now; the start aborts it.
    else this.fail(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason as Error);
  }

  protected stopListening(): void {
    this.signal.removeEventListener('abort', this);
  }

  /** Ends the request with `err`, once. */
  protected abstract fail(err: unknown): void;
}
