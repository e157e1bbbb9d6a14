/**
 * The hot path's HTTP client for every provider: one undici Pool per origin (keep-alive,
 * pipelining off), the body serialized once and written once, a JSON answer read whole by a
 * dispatch handler (buffered-request.ts) and parsed once, an event stream parsed at byte level
 * by one shared parser inside another (streamed-request.ts). No SDK, no WHATWG
 * Request/Response and no Readable per call.
 *
 * Failures are the neutral UpstreamError, built from status, headers and body directly;
 * a request over the provider's connection limit is refused before it is sent with
 * `gateway_busy` (503), which the balancer counts as neither a failure nor a reason to retry.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from '../../src/core/undici-pool.js';
import type { CallSignal } from '../../src/core/call-signal.js';
import { GatewayError } from '../../src/core/errors.js';
import { UpstreamError, protocolError } from '../../src/core/upstream-error.js';
import { withUpstreamHeaders } from '../../src/core/upstream-headers.js';
import { settleAdapterError } from '../upstream-errors.js';
import { postBuffered } from './buffered-request.js';
import { EventTooLongError, postStreamed, type SseEvent, type StreamedAnswer } from './streamed-request.js';

/** Requests in flight at once per provider when its config sets no `connections`. */
export const DEFAULT_CONNECTIONS = 256;

/** The most of an error body the gateway reads: enough for the provider's message, bounded. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The largest answer read from a provider when its config sets no `answer_limit_mb`: a whole
 * JSON answer, or one SSE event. Far above any real one (a batch of base64 embeddings reaches
 * tens of MB), so only a broken or hostile upstream meets it, and memory stays bounded.
 */
export const DEFAULT_ANSWER_LIMIT_BYTES = 128 * 1024 * 1024;

export interface WireClientOptions {
  /** The configured provider name, for errors. */
  provider: string;
  /** Requests in flight at once, one connection each. */
  connections?: number;
  /** The largest answer (JSON) or SSE event read, bytes; DEFAULT_ANSWER_LIMIT_BYTES when absent. */
  answerLimitBytes?: number;
}

/** The wire client's options from a provider's config. */
export function wireOptionsOf(provider: string, config: { connections?: number; answer_limit_mb?: number }): WireClientOptions {
  const mb = config.answer_limit_mb;
  return { provider, connections: config.connections, answerLimitBytes: mb === undefined ? undefined : Math.floor(mb * 1024 * 1024) };
}

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  /** Serialized once by the caller's mapping. */
  body: string;
  signal: CallSignal;
}

export type { SseEvent };

export interface WireClient {
  /** POSTs JSON and answers the parsed JSON body of a 2xx; throws UpstreamError otherwise. */
  postJson(req: WireRequest): Promise<unknown>;
  /**
   * POSTs JSON and yields the SSE events of a 2xx `text/event-stream` answer, as many at a time
   * as arrived since the last batch was taken (never an empty batch); throws UpstreamError otherwise.
   * Batches, not single events: each step of an async iteration costs promises and ticks, and
   * a provider that sends faster than the gateway reads would pay them per event.
   */
  postSse(req: WireRequest): AsyncGenerator<SseEvent[]>;
  close(): Promise<void>;
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** An error status: its body (JSON where it parses) goes with the error; the edge decides what the client sees. */
function httpError(provider: string, status: number, headers: IncomingHttpHeaders, text: string): UpstreamError {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page): kept as text for the logs.
  }
  return new UpstreamError({
    kind: 'http',
    provider,
    status,
    body,
    headers: { 'retry-after': headerOf(headers, 'retry-after') },
    message: `${provider} answered ${status}`,
  });
}

/** The body as text, without the byte-order mark a server may put first (JSON.parse refuses it). */
function utf8Text(body: Buffer): string {
  const start = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  return body.toString('utf8', start);
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** An answer (or event) over the provider's limit: the call fails as an unreadable answer would. */
function overLimit(provider: string, what: string, limit: number): UpstreamError {
  return protocolError(provider, `${provider} sent ${what} over ${limit} bytes (the provider's answer_limit_mb)`);
}

/** `https://host:port/a/b?c` → origin `https://host:port`, path `/a/b?c`. */
function splitUrl(url: string): { origin: string; path: string } {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash === -1 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

export function createWireClient(options: WireClientOptions): WireClient {
  const { provider } = options;
  const limit = options.connections ?? DEFAULT_CONNECTIONS;
  const answerLimit = options.answerLimitBytes ?? DEFAULT_ANSWER_LIMIT_BYTES;
  // A success is read whole (the caller parses it) up to the answer limit; an error body only as far as its message needs.
  const bodyLimitFor = (status: number): number => (isSuccess(status) ? answerLimit : MAX_ERROR_BODY_BYTES);
  // One Pool per origin (a provider has one, a base URL's): asked with a path, undici neither
  // parses a URL nor looks the origin up per request, as its top-level `request` with an Agent does.
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: limit, pipelining: 1, keepAliveTimeout: 30_000 });
      pools.set(origin, pool);
    }
    return pool;
  };
  let inFlight = 0;

  /** Counts a request as holding a connection, or refuses it when all are held; the caller gives it back. */
  function takeConnection(): void {
    if (inFlight >= limit) {
      throw new GatewayError('gateway_busy', `every connection to ${provider} is in use (${limit}); try again shortly`, { retryAfter: 1 });
    }
    inFlight++;
  }

  return {
    async postJson(req) {
      takeConnection();
      let answer;
      try {
        const { origin, path } = splitUrl(req.url);
        const headers = withUpstreamHeaders(req.signal, req.headers);
        answer = await postBuffered(poolFor(origin), { path, headers, body: req.body, signal: req.signal, maxBodyBytes: bodyLimitFor });
      } catch (err) {
        throw settleAdapterError(provider, err, req.signal);
      } finally {
        inFlight--;
      }
      const text = utf8Text(answer.body);
      if (!isSuccess(answer.status)) throw httpError(provider, answer.status, answer.headers, text);
      if (answer.truncated) throw overLimit(provider, 'an answer', answerLimit);
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw protocolError(provider, `${provider} sent a response the gateway could not read`, err, text.slice(0, 2000));
      }
    },

    async *postSse(req) {
      takeConnection();
      let answer: StreamedAnswer | undefined;
      try {
        const { origin, path } = splitUrl(req.url);
        const headers = withUpstreamHeaders(req.signal, req.headers);
        const streamed = { path, headers, body: req.body, signal: req.signal, maxEventChars: answerLimit, maxErrorBytes: MAX_ERROR_BODY_BYTES };
        answer = await postStreamed(poolFor(origin), streamed, () => inFlight--);
        if (!answer.isEventStream) {
          const { status, headers: got, text } = await answer.error();
          if (!isSuccess(status)) throw httpError(provider, status, got, text);
          // A 200 that is not a stream (an error body, a proxy's page) is the upstream's failure.
          const type = headerOf(got, 'content-type');
          throw protocolError(provider, `${provider} answered 200 with ${type || 'no content type'} instead of an event stream`, undefined, text);
        }
        for (let batch = await answer.take(); batch !== undefined; batch = await answer.take()) yield batch;
        // A stream the provider never finished reads as ending here: the adapter decides whether that is a cut.
        if (req.signal.aborted) throw req.signal.reason;
      } catch (err) {
        if (err instanceof EventTooLongError) throw overLimit(provider, 'an event', answerLimit);
        throw settleAdapterError(provider, err, req.signal);
      } finally {
        // Still open (the consumer stopped early, or an error above): drop the connection.
        answer?.abandon();
      }
    },

    close: async () => {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };
}
