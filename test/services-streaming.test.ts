/**
 * Bodies stream through a service route both ways without the gateway holding them: the
 * upstream sees upload bytes before the client finished sending, the client sees download
 * bytes before the upstream finished writing, SSE events arrive one by one, and the size
 * limit holds for declared and chunked bodies.
 */
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import type { ErrorShape } from './helpers/raw-http.js';

const MiB = 1024 * 1024;
const SIZE = 10 * MiB;
/** Long enough never to fire on a working gateway; it only keeps a buffering one from hanging the suite. */
const GUARD_MS = 8000;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves true when `signal` comes first, false when the guard runs out. */
function within(signal: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([signal.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes `data` in 64 KiB pieces, honouring backpressure. */
async function writeAll(stream: NodeJS.WritableStream, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length; offset += 64 * 1024) {
    if (!stream.write(data.subarray(offset, offset + 64 * 1024))) await new Promise((r) => stream.once('drain', r));
  }
}

/** A test-scripted upstream: each test sets `handler`. */
let handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
let upstream: http.Server;
let gw: TestGateway;
const ledger = createMemoryLedger();
const payload = randomBytes(SIZE);

beforeAll(async () => {
  // An aborted upload rejects the handler's body loop: that ends the exchange, nothing more.
  upstream = http.createServer((req, res) => void Promise.resolve(handler(req, res)).catch(() => res.destroy()));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gw = await startGateway(
    {
      services: [
        { name: 'files', prefix: '/files', timeout_ms: 20000, targets: [{ url }] },
        { name: 'small', prefix: '/small', body_limit_mb: 1, targets: [{ url }] },
      ],
    },
    { ledger },
  );
});

afterAll(async () => {
  await gw?.close();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
});

function gatewayRequest(path: string, options: http.RequestOptions): http.ClientRequest {
  const url = new URL(gw.url);
  return http.request({ host: url.hostname, port: url.port, path, agent: false, ...options });
}

function readResponse(req: http.ClientRequest): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    req.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (p: Buffer) => parts.push(p));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
}

describe('a 10 MB upload', () => {
  for (const framing of ['content-length', 'chunked'] as const) {
    it(`streams to the upstream byte-exact (${framing})`, async () => {
      const upstreamStarted = deferred();
      handler = async (req, res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        for await (const part of req) {
          if (bytes === 0) upstreamStarted.resolve();
          bytes += (part as Buffer).length;
          hash.update(part as Buffer);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ bytes, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null }));
      };
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream', 'x-request-id': `upload-${framing}` };
      if (framing === 'content-length') headers['content-length'] = SIZE;
      const req = gatewayRequest('/files/upload', { method: 'POST', headers });
      const answer = readResponse(req);

      await writeAll(req, payload.subarray(0, 2 * MiB));
      // The upstream must be receiving while most of the body is still on the client's side.
      const startedEarly = await within(upstreamStarted.promise, GUARD_MS);
      await writeAll(req, payload.subarray(2 * MiB));
      req.end();

      const { status, body } = await answer;
      expect(startedEarly).toBe(true);
      expect(status).toBe(200);
      const seen = JSON.parse(body.toString()) as { bytes: number; sha256: string; te: string | null };
      expect(seen.bytes).toBe(SIZE);
      expect(seen.sha256).toBe(sha256(payload));
      // A declared length stays declared upstream; a chunked body stays chunked.
      expect(seen.te).toBe(framing === 'chunked' ? 'chunked' : null);
      const record = ledger.records().find((r) => r.client_request_id === `upload-${framing}`);
      expect(record).toMatchObject({ route: 'service:files', status: 200, request_bytes: SIZE });
    });
  }
});

describe('a 10 MB download', () => {
  for (const framing of ['content-length', 'chunked'] as const) {
    it(`streams to the client byte-exact (${framing})`, async () => {
      const clientStarted = deferred();
      let clientStartedEarly = false;
      handler = async (_req, res) => {
        const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream' };
        if (framing === 'content-length') headers['content-length'] = SIZE;
        res.writeHead(200, headers);
        await writeAll(res, payload.subarray(0, 2 * MiB));
        // The client must see bytes while most of the body is still on the upstream's side.
        clientStartedEarly = await within(clientStarted.promise, GUARD_MS);
        await writeAll(res, payload.subarray(2 * MiB));
        res.end();
      };
      const req = gatewayRequest('/files/download', { method: 'GET', headers: { 'x-request-id': `download-${framing}` } });
      req.end();
      const { status, hash, bytes } = await new Promise<{ status: number; hash: string; bytes: number }>((resolve, reject) => {
        req.once('response', (res) => {
          const h = createHash('sha256');
          let n = 0;
          res.on('data', (p: Buffer) => {
            n += p.length;
            h.update(p);
            clientStarted.resolve();
          });
          res.once('end', () => resolve({ status: res.statusCode ?? 0, hash: h.digest('hex'), bytes: n }));
          res.once('error', reject);
        });
        req.once('error', reject);
      });
      expect(clientStartedEarly).toBe(true);
      expect(status).toBe(200);
      expect(bytes).toBe(SIZE);
      expect(hash).toBe(sha256(payload));
      await new Promise((r) => setImmediate(r));
      const record = ledger.records().find((r) => r.client_request_id === `download-${framing}`);
      expect(record).toMatchObject({ route: 'service:files', status: 200, response_bytes: SIZE });
    });
  }
});

describe('server-sent events from a service', () => {
  it('pass through event by event', async () => {
    const firstSeen = deferred();
    let firstSeenBeforeSecondSent = false;
    handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: {"n":1}\n\n');
      firstSeenBeforeSecondSent = await within(firstSeen.promise, GUARD_MS);
      res.write('event: done\ndata: {"n":2}\n\n');
      res.end();
    };
    const res = await fetch(`${gw.url}/files/events`, { headers: { accept: 'text/event-stream' } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.includes('"n":1')) firstSeen.resolve();
    }
    expect(firstSeenBeforeSecondSent).toBe(true);
    expect(text).toBe('data: {"n":1}\n\nevent: done\ndata: {"n":2}\n\n');
  });
});

describe('the request size limit', () => {
  it('refuses a declared body over the limit before contacting the upstream', async () => {
    let reached = false;
    handler = (_req, res) => {
      reached = true;
      res.end();
    };
    const req = gatewayRequest('/small/upload', { method: 'POST', headers: { 'content-length': 2 * MiB, 'content-type': 'application/octet-stream' } });
    const answer = readResponse(req);
    // The answer comes before the body is sent; the client may then find the socket closed.
    req.on('error', () => undefined);
    req.write(payload.subarray(0, 64 * 1024));
    const { status, body } = await answer;
    req.destroy();
    expect(status).toBe(413);
    expect((JSON.parse(body.toString()) as ErrorShape).error).toMatchObject({ code: 'body_too_large', type: 'invalid_request_error' });
    expect(reached).toBe(false);
  });

  it('cuts a chunked body at the limit with 413', async () => {
    handler = async (req, res) => {
      for await (const _ of req) void _;
      res.end('read it all');
    };
    const req = gatewayRequest('/small/upload', { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-request-id': 'chunked-over' } });
    const answer = readResponse(req);
    req.on('error', () => undefined);
    void writeAll(req, payload.subarray(0, 3 * MiB))
      .then(() => req.end())
      .catch(() => undefined);
    const { status, body } = await answer;
    expect(status).toBe(413);
    expect((JSON.parse(body.toString()) as ErrorShape).error.code).toBe('body_too_large');
    expect(ledger.records().find((r) => r.client_request_id === 'chunked-over')).toMatchObject({ status: 413, error_code: 'body_too_large' });
  });

  it('lets a body within the limit through', async () => {
    handler = async (req, res) => {
      let n = 0;
      for await (const part of req) n += (part as Buffer).length;
      res.end(String(n));
    };
    const req = gatewayRequest('/small/upload', { method: 'PUT', headers: { 'content-length': MiB } });
    const answer = readResponse(req);
    req.end(payload.subarray(0, MiB));
    const { status, body } = await answer;
    expect(status).toBe(200);
    expect(body.toString()).toBe(String(MiB));
  });
});
