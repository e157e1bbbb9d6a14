import { UpstreamError } from '../core/upstream-error.js';

/** Why a call was abandoned because the client went away (not an upstream fault). */
export class ClientClosedError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientClosedError';
  }
}

/**
 * The abort signal of one upstream attempt: aborts when the client leaves (the parent signal),
 * when the attempt has been silent for `timeoutMs` (no answer yet, or no stream chunk since
 * the last), or when the overall deadline passes. `touch()` restarts the silence timer.
 */
export class AttemptSignal {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = () => this.controller.abort(this.parent.reason);

  constructor(
    private readonly parent: AbortSignal,
    private readonly timeoutMs: number,
    private readonly deadlineAt: number | undefined,
    private readonly provider: string,
  ) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    this.arm();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.controller.signal.aborted) return;
    let wait = this.timeoutMs;
    if (this.deadlineAt !== undefined) wait = Math.min(wait, Math.max(0, this.deadlineAt - Date.now()));
    this.timer = setTimeout(() => {
      this.controller.abort(new UpstreamError({ kind: 'timeout', provider: this.provider, message: `${this.provider} did not answer within ${wait} ms` }));
    }, wait);
    // A pending timer must not keep a draining process alive.
    this.timer.unref();
  }
}
