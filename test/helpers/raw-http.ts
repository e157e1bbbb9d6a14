/**
 * Plain node:http requests for service tests. Unlike fetch, node:http sends the path exactly
 * as written (`..`, `%2e%2e`, `//` stay), which traversal tests need.
 */
import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
}

/** One request on a fresh connection, answer read in full. */
export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers = { ...req.headers };
  // node:http sends no length for a DELETE or OPTIONS body unless told; say it for every body.
  if (req.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['content-length'] = Buffer.byteLength(req.body);
  }
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, method: req.method ?? 'GET', path: req.path, headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.once('error', reject);
        res.once('end', () => {
          const body = Buffer.concat(parts);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: <T>() => JSON.parse(text) as T });
        });
      },
    );
    request.once('error', reject);
    request.end(req.body);
  });
}

/** The OpenAI-shaped error body the gateway writes. */
export interface ErrorShape {
  error: { message: string; type: string; param: string | null; code: string };
}
