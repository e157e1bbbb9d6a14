/**
 * The hot path's HTTP client for every provider: one undici Agent per provider (keep-alive,
 * pipelining off), the body serialized once and written once, a JSON answer parsed once, SSE
 * parsed at byte level by one shared parser. No SDK, no WHATWG Request/Response per call.
 *
 * Failures are the neutral UpstreamError, built from status, headers and body directly;
 * a request over the provider's connection limit is refused before it is sent with
 * `gateway_busy` (503), which the balancer counts as neither a failure nor a reason to retry.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Pool, type Dispatcher } from 'undici';
import { GatewayError } from '../../src/core/errors.js';
import { UpstreamError, protocolError } from '../../src/core/upstream-error.js';
import { withUpstreamHeaders } from '../../src/core/upstream-headers.js';
import { settleAdapterError } from '../upstream-errors.js';

/** Requests in flight at once per provider when its config sets no `connections`. */
export const DEFAULT_CONNECTIONS = 256;

/** The most of an error body the gateway reads: enough for the provider's message, bounded. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface WireClientOptions {
  /** The configured provider name, for errors. */
  provider: string;
  /** Requests in flight at once, one connection each. */
  connections?: number;
}

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  /** Serialized once by the caller's mapping. */
  body: string;
  signal: AbortSignal;
}

export interface SseEvent {
  event?: string;
  data: string;
}

export interface WireClient {
  /** POSTs JSON and answers the parsed JSON body of a 2xx; throws UpstreamError otherwise. */
  postJson(req: WireRequest): Promise<unknown>;
  /** POSTs JSON and yields the SSE events of a 2xx `text/event-stream` answer; throws UpstreamError otherwise. */
  postSse(req: WireRequest): AsyncGenerator<SseEvent>;
  close(): Promise<void>;
}

async function readBounded(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    const chunk = part as Buffer;
    if (size + chunk.length > limit) {
      parts.push(chunk.subarray(0, limit - size));
      body.destroy();
      break;
    }
    parts.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(parts).toString('utf8');
}

function headerOf(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** An error status: its body (JSON where it parses) goes with the error; the edge decides what the client sees. */
async function httpError(provider: string, res: Dispatcher.ResponseData): Promise<UpstreamError> {
  const text = await readBounded(res.body, MAX_ERROR_BODY_BYTES).catch(() => '');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page): kept as text for the logs.
  }
  return new UpstreamError({
    kind: 'http',
    provider,
    status: res.statusCode,
    body,
    headers: { 'retry-after': headerOf(res.headers, 'retry-after') },
    message: `${provider} answered ${res.statusCode}`,
  });
}

/** `https://host:port/a/b?c` → origin `https://host:port`, path `/a/b?c`. */
function splitUrl(url: string): { origin: string; path: string } {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash === -1 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

export function createWireClient(options: WireClientOptions): WireClient {
  const { provider } = options;
  const limit = options.connections ?? DEFAULT_CONNECTIONS;
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

  async function send(req: WireRequest): Promise<{ res: Dispatcher.ResponseData; release: () => void }> {
    if (inFlight >= limit) {
      throw new GatewayError('gateway_busy', `every connection to ${provider} is in use (${limit}); try again shortly`, { retryAfter: 1 });
    }
    inFlight++;
    let held = true;
    const release = () => {
      if (held) inFlight--;
      held = false;
    };
    try {
      const headers = withUpstreamHeaders(req.signal, req.headers);
      const { origin, path } = splitUrl(req.url);
      const res = await poolFor(origin).request({ origin, path, method: 'POST', headers, body: req.body, signal: req.signal });
      res.body.once('close', release);
      return { res, release };
    } catch (err) {
      release();
      throw settleAdapterError(provider, err, req.signal);
    }
  }

  return {
    async postJson(req) {
      const { res } = await send(req);
      try {
        if (res.statusCode < 200 || res.statusCode >= 300) throw await httpError(provider, res);
        const text = await res.body.text();
        try {
          return JSON.parse(text) as unknown;
        } catch (err) {
          throw protocolError(provider, `${provider} sent a response the gateway could not read`, err, text.slice(0, 2000));
        }
      } catch (err) {
        res.body.destroy();
        throw settleAdapterError(provider, err, req.signal);
      }
    },

    async *postSse(req) {
      const { res } = await send(req);
      try {
        if (res.statusCode < 200 || res.statusCode >= 300) throw await httpError(provider, res);
        const type = headerOf(res.headers, 'content-type') ?? '';
        if (!type.startsWith('text/event-stream')) {
          // A 200 that is not a stream (an error body, a proxy's page) is the upstream's failure.
          const text = await readBounded(res.body, MAX_ERROR_BODY_BYTES).catch(() => '');
          throw protocolError(provider, `${provider} answered 200 with ${type || 'no content type'} instead of an event stream`, undefined, text);
        }
        const decoder = new TextDecoder();
        const ready: SseEvent[] = [];
        let lastChar = '';
        const parser = createParser({
          onEvent: (message: EventSourceMessage) => {
            ready.push(message.event ? { event: message.event, data: message.data } : { data: message.data });
          },
        });
        for await (const part of res.body) {
          // `stream: true` keeps a UTF-8 character split across two reads whole.
          const text = decoder.decode(part as Buffer, { stream: true });
          if (text.length > 0) lastChar = text[text.length - 1]!;
          parser.feed(text);
          for (let i = 0; i < ready.length; i++) yield ready[i]!;
          ready.length = 0;
        }
        // The parser holds a trailing CR back in case an LF follows; at the end, none will.
        parser.feed(decoder.decode() + (lastChar === '\r' ? '\n' : ''));
        for (const event of ready) yield event;
        // A stream the provider never finished reads as ending here: the adapter decides whether that is a cut.
        if (req.signal.aborted) throw req.signal.reason;
      } catch (err) {
        throw settleAdapterError(provider, err, req.signal);
      } finally {
        res.body.destroy();
      }
    },

    close: async () => {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };
}
