/**
 * Whether the client of a call is still there. Most calls end with the client waiting, so the
 * AbortSignal that code outside the pipeline may want (a balancer wait, a gate) is made only
 * when asked for: an AbortController and its listeners cost a plain call more than its routing.
 * The pipeline's own attempts subscribe here directly, with no EventTarget between.
 */
export class ClientLink {
  private controller: AbortController | undefined;
  private leftWith: Error | undefined;
  private listeners: Set<(reason: Error) => void> | undefined;

  /** True once the client has gone. */
  get left(): boolean {
    return this.leftWith !== undefined;
  }

  /** Why the client went (a ClientClosedError); undefined while it is there. */
  get reason(): Error | undefined {
    return this.leftWith;
  }

  /** Aborts when the client leaves; already aborted if it has. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.leftWith) this.controller.abort(this.leftWith);
    }
    return this.controller.signal;
  }

  /** Calls `listener` once when the client leaves (at once if it has); the answer unsubscribes. */
  onLeave(listener: (reason: Error) => void): () => void {
    if (this.leftWith) {
      listener(this.leftWith);
      return noop;
    }
    (this.listeners ??= new Set()).add(listener);
    return () => this.listeners?.delete(listener);
  }

  leave(reason: Error): void {
    if (this.leftWith) return;
    this.leftWith = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }
}

function noop(): void {}
