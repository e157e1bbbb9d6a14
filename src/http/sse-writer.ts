import type { ServerResponse } from 'node:http';
import type { ErrorBody } from '../core/errors.js';

/**
 * Writes an SSE response on the raw socket with backpressure: `write` resolves at once while
 * the socket keeps up and waits for `drain` when it does not, so a slow client never makes
 * the gateway buffer a whole answer.
 */
export class SseWriter {
  private closed = false;

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => {
      this.closed = true;
    });
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
    // Send the headers now: clients measure time to first byte from here.
    this.res.flushHeaders();
  }

  write(frame: string): Promise<void> | undefined {
    if (frame.length === 0 || this.isClosed) return undefined;
    if (this.res.write(frame)) return undefined;
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

  /** Ends a failed stream with one error event and no `[DONE]`, so clients raise instead of finishing. */
  fail(body: ErrorBody): void {
    if (this.isClosed) return;
    this.res.end(`data: ${JSON.stringify(body)}\n\n`);
  }

  end(frame?: string): void {
    if (this.isClosed) return;
    this.res.end(frame);
  }
}
