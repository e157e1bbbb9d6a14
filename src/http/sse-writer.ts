import type { ServerResponse } from 'node:http';
import { watchWriteProgress } from './write-watchdog.js';

/**
 * Writes an SSE response on the raw socket with backpressure: `write` resolves at once while
 * the socket keeps up and waits for `drain` when it does not, so a slow client never makes
 * the gateway buffer a whole answer. A client that stops reading is cut once no byte has moved
 * for `writeIdleMs` (the model group's `timeout_ms`, else `server.write_idle_ms`), so it cannot
 * hold the stream and its upstream connection open.
 */
export class SseWriter {
  private closed = false;
  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.res.uncork();
  };

  /** @param writeIdleMs ms a stalled client may keep bytes waiting before it is cut. */
  constructor(
    private readonly res: ServerResponse,
    private readonly writeIdleMs: number,
  ) {
    res.once('close', () => {
      this.closed = true;
    });
  }

  /** Whether the status line and headers went out (an error can then only be an SSE event). */
  get isOpen(): boolean {
    return this.res.headersSent;
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed;
  }

  open(headers: Record<string, string | number>): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold frames back.
      'x-accel-buffering': 'no',
      ...headers,
    });
    // From here to the end, `end()` included: a cached replay is written in one piece.
    watchWriteProgress(this.res, this.writeIdleMs);
    // The headers leave with the first frames, in the same packet, at the end of this tick.
    this.coalesce();
  }

  /**
   * Frames written in one turn of the event loop leave in one socket write: an upstream that
   * sends a burst of chunks costs one syscall, not one per chunk, and a paced stream is
   * delayed by no more than that turn.
   */
  private coalesce(): void {
    if (this.corked) return;
    this.corked = true;
    this.res.cork();
    setImmediate(this.uncork);
  }

  write(frame: string): Promise<void> | undefined {
    if (frame.length === 0 || this.isClosed) return undefined;
    this.coalesce();
    if (this.res.write(frame)) return undefined;
    // The watch started in `open` destroys a stalled response, which ends this wait with `close`.
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  end(frame?: string): void {
    if (this.isClosed) return;
    this.res.end(frame);
  }
}
