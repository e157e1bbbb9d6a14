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
  /** Frames of this turn of the event loop, not yet handed to the socket. */
  private pending = '';
  private flushScheduled = false;
  /** The socket's buffer is over its mark: writers wait for `drain` (or the end). */
  private draining: Promise<void> | undefined;
  private readonly flush = () => {
    this.flushScheduled = false;
    this.writePending();
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
  }

  /**
   * Queues a frame. Frames written in one turn of the event loop leave in one socket write
   * (with the headers, for the first): an upstream burst of chunks costs one write and one
   * chunked-encoding frame, not one per chunk, and a paced stream is delayed by no more than
   * that turn. Returns a promise only while the socket asks for backpressure.
   */
  write(frame: string): Promise<void> | undefined {
    if (frame.length === 0 || this.isClosed) return undefined;
    this.pending += frame;
    if (this.pending.length >= FLUSH_AT) this.writePending();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    return this.draining;
  }

  private writePending(): void {
    if (this.pending.length === 0 || this.isClosed) return;
    const ok = this.res.write(this.pending);
    this.pending = '';
    if (ok || this.draining) return;
    // The watch started in `open` destroys a stalled response, which ends this wait with `close`.
    this.draining = new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        this.draining = undefined;
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  /** Ends the stream, the frames still queued and `frame` in the same write. */
  end(frame?: string): void {
    if (this.isClosed) return;
    const last = this.pending + (frame ?? '');
    this.pending = '';
    this.res.end(last.length > 0 ? last : undefined);
  }
}

/** Queued bytes (UTF-16 units) past which frames go out without waiting for the turn to end. */
const FLUSH_AT = 16 * 1024;
