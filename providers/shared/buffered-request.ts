/**
 * One request whose answer is read whole (a JSON completion, an error body), on undici's
 * dispatch API: the handler below collects the body's buffers and settles one promise. No
 * Readable, no async iteration and no per-call closures between the socket and JSON.parse:
 * on the plain-chat hot path undici's `request()` spent more on its stream plumbing than the
 * gateway spends on the call's routing.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { CallSignal } from '../../src/core/call-signal.js';
import { SignalledHandler } from './signalled-handler.js';

export interface BufferedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body went past `maxBodyBytes(status)`: `body` is its first bytes, and the connection was dropped. */
  truncated: boolean;
}

export interface BufferedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  signal: CallSignal;
  /** The most of a body kept for `status`; a longer one is cut there and its connection dropped. */
  maxBodyBytes: (status: number) => number;
}

class BufferingHandler extends SignalledHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly parts: Buffer[] = [];
  private size = 0;
  private limit = Infinity;
  private truncated = false;
  private done = false;

  constructor(
    private readonly req: BufferedRequest,
    private readonly resolve: (answer: BufferedAnswer) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    super(req.signal);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.headers = headers;
    this.limit = this.req.maxBodyBytes(status);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.truncated) return;
    if (this.size + chunk.length > this.limit) {
      this.parts.push(chunk.subarray(0, this.limit - this.size));
      this.size = this.limit;
      this.truncated = true;
      // The rest is not wanted: the connection is dropped, and the answer is what was kept (onResponseError).
      controller.abort(new Error('answer body over its limit'));
      return;
    }
    this.parts.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.truncated) this.finish();
    else this.fail(err);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.stopListening();
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.resolve({ status: this.status, headers: this.headers, body, truncated: this.truncated });
  }

  protected fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.stopListening();
    this.reject(err);
  }
}

/** POSTs `req.body` to `req.path` of `dispatcher`'s origin and answers status, headers and the whole body. */
export function postBuffered(dispatcher: Dispatcher, req: BufferedRequest): Promise<BufferedAnswer> {
  return new Promise((resolve, reject) => {
    const handler = new BufferingHandler(req, resolve, reject);
    dispatcher.dispatch({ path: req.path, method: 'POST', headers: req.headers, body: req.body }, handler);
  });
}
