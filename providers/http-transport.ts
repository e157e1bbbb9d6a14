/**
 * A `fetch` for the provider SDKs built on undici's `request` with a keep-alive pool per
 * provider. Node's global fetch spends about twice the CPU per call (WHATWG request objects,
 * body streams, signal plumbing); measured on loopback with the `openai` SDK: ~530 µs per
 * call with the global fetch, ~290 µs with this one. SDKs still see a standard `Response`.
 */
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';

type FetchLike = (url: string | URL | Request, init?: RequestInit) => Promise<Response>;

function toHeaderRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Statuses whose responses carry no body, which `Response` refuses to be given one for. */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function createUndiciFetch(options: { connections?: number } = {}): { fetch: FetchLike; close(): Promise<void> } {
  const agent = new Agent({ connections: options.connections ?? 128, keepAliveTimeout: 30_000 });
  const fetchFn: FetchLike = async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const res = await request(url, {
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers as Record<string, string> | undefined,
      body: init.body as string | Buffer | undefined,
      signal: init.signal ?? undefined,
      dispatcher: agent,
    });
    const headers = toHeaderRecord(res.headers);
    if (NULL_BODY.has(res.statusCode)) {
      await res.body.dump();
      return new Response(null, { status: res.statusCode, headers });
    }
    // Streams stay streams; anything else is small enough to hand over whole.
    if (headers['content-type']?.startsWith('text/event-stream')) {
      return new Response(Readable.toWeb(res.body) as ReadableStream, { status: res.statusCode, headers });
    }
    return new Response(await res.body.arrayBuffer(), { status: res.statusCode, headers });
  };
  return { fetch: fetchFn, close: () => agent.close() };
}
