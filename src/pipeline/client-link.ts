/**
 * Whether the client of a call is still there: a CallSignal that aborts when it leaves, which
 * the call's attempts listen to directly. Most calls end with the client waiting, so the Node
 * AbortSignal that code outside the pipeline may want (a balancer wait, a gate) is made only
 * when asked for: see call-signal.ts for what one costs a call.
 */
import { CallAbort } from '../core/call-signal.js';

export class ClientLink extends CallAbort {
  private controller: AbortController | undefined;

  /** True once the client has gone. */
  get left(): boolean {
    return this.aborted;
  }

  /** Aborts when the client leaves; already aborted if it has. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** The client went; `reason` is a ClientClosedError. */
  leave(reason: Error): void {
    if (this.aborted) return;
    this.abort(reason);
    this.controller?.abort(reason);
  }
}
