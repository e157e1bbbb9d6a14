/**
 * Bounds the requests in flight to one service target, each holding one upstream connection.
 * The shared undici pool would queue the rest without a time limit, so a few clients that
 * never finish could make every other call wait forever; here a request waits a bounded time
 * for a free slot, first come first served, or is refused.
 */

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release | undefined) => void;
  timer: NodeJS.Timeout;
}

export class ConnectionGate {
  private inFlight = 0;
  private readonly waiters: Waiter[] = [];

  /**
   * @param limit requests in flight at once.
   * @param waitMs longest wait for a slot, ms.
   */
  constructor(
    readonly limit: number,
    private readonly waitMs: number,
  ) {}

  /** Every slot taken: a newcomer would wait. */
  get isFull(): boolean {
    return this.inFlight >= this.limit;
  }

  /** A slot now, or undefined when all are taken: the hot path, without a promise. */
  tryAcquire(): Release | undefined {
    if (this.isFull) return undefined;
    this.inFlight++;
    return this.releaser();
  }

  /** A slot as soon as one is free; undefined when none came within `waitMs`. */
  acquire(): Promise<Release | undefined> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(undefined);
        }, this.waitMs),
      };
      this.waiters.push(waiter);
    });
  }

  private releaser(): Release {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiters.shift();
      if (next) {
        // The slot passes on as it is: the count stays, so no newcomer can take it in between.
        clearTimeout(next.timer);
        next.grant(this.releaser());
        return;
      }
      this.inFlight--;
    };
  }
}
