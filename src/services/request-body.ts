/**
 * The request body as one attempt sends it upstream: a pull-based view of the client's stream
 * that counts bytes and enforces the size limit without buffering.
 *
 * Why not hand undici the client's stream itself: undici destroys a body stream when the
 * upstream fails, and destroying an IncomingMessage destroys the client's socket, so the
 * client would see a reset instead of our 502. And because this view reads nothing until
 * undici asks (after it connected), an attempt refused at connect leaves the client's stream
 * untouched, so an idempotent request with a body can still go to another target.
 */
import { Readable } from 'node:stream';
import { GatewayError } from '../core/errors.js';

export class RequestBody extends Readable {
  /** Bytes read from the client so far. */
  bytes = 0;
  /** True once any byte was pulled: from then on the body cannot be sent again. */
  started = false;
  /** True when the client sent more than the limit. */
  tooLarge = false;

  constructor(
    private readonly source: Readable,
    /** bytes. */
    private readonly limit: number,
  ) {
    super();
  }

  private readonly onData = (chunk: Buffer) => {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.tooLarge = true;
      this.destroy(new GatewayError('body_too_large', 'the request body is larger than the service accepts'));
      return;
    }
    if (!this.push(chunk)) this.source.pause();
  };

  private readonly onEnd = () => {
    this.push(null);
  };

  private readonly onError = (err: Error) => {
    this.destroy(err);
  };

  private readonly onClose = () => {
    if (!this.source.readableEnded) this.destroy(new Error('the client closed the request before its body ended'));
  };

  override _read(): void {
    if (!this.started) {
      this.started = true;
      // The client may have finished or gone before the upstream asked for the body.
      if (this.source.readableEnded) {
        this.push(null);
        return;
      }
      if (this.source.destroyed) {
        this.destroy(new Error('the client closed the request before its body ended'));
        return;
      }
      this.source.on('data', this.onData);
      this.source.once('end', this.onEnd);
      this.source.once('error', this.onError);
      this.source.once('close', this.onClose);
    }
    this.source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (this.started) {
      this.source.off('data', this.onData);
      this.source.off('end', this.onEnd);
      this.source.off('error', this.onError);
      this.source.off('close', this.onClose);
      this.source.pause();
    }
    callback(err);
  }
}
