/**
 * A service answer that stops half way, from either end: the upstream cutting its body after
 * the head went out (the client's response is cut too, the ledger says 502), and the client
 * leaving mid-download (the upstream's request is aborted at once, so its connection is not
 * held for nobody, and the ledger says 499). A client that stops reading altogether is
 * services-pools.test.ts's.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

let handler: (req: IncomingMessage, res: ServerResponse) => void;
let upstream: http.Server;
let gw: TestGateway;
const ledger = createMemoryLedger();

beforeAll(async () => {
  upstream = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gw = await startGateway({ services: [{ name: 'files', prefix: '/files', timeout_ms: 20000, targets: [{ url }] }] }, { ledger });
});

afterAll(async () => {
  await gw?.close();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
});

function get(path: string, id: string): http.ClientRequest {
  const url = new URL(gw.url);
  return http.get({ host: url.hostname, port: url.port, path, agent: false, headers: { 'x-request-id': id } });
}

function recordOf(id: string) {
  return ledger.records().find((r) => r.client_request_id === id);
}

async function eventually(check: () => void, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setImmediate(r));
    }
  }
}

describe('a service answer cut half way', () => {
  it('by the upstream after its head: the client sees the cut, the ledger records 502 and the bytes that came', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100000' });
      res.write(Buffer.alloc(4096, 1), () => res.destroy());
    };
    const req = get('/files/cut', 'cut-by-upstream');
    const outcome = await new Promise<{ status: number; got: number; aborted: boolean }>((resolve) => {
      req.once('response', (res) => {
        let got = 0;
        res.on('data', (p: Buffer) => (got += p.length));
        res.once('aborted', () => resolve({ status: res.statusCode ?? 0, got, aborted: true }));
        res.once('error', () => resolve({ status: res.statusCode ?? 0, got, aborted: true }));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, got, aborted: false }));
      });
    });
    expect(outcome).toMatchObject({ status: 200, aborted: true });
    expect(outcome.got).toBeLessThan(100_000);
    await eventually(() => expect(recordOf('cut-by-upstream')).toMatchObject({ status: 502, route: 'service:files' }));
  });

  it('by the client mid-download: the upstream request is aborted at once and the ledger records 499', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // An endless body: only the gateway letting go of the connection ends this exchange.
      const pump = () => {
        while (res.write(Buffer.alloc(16 * 1024, 2)));
      };
      res.on('drain', pump);
      res.once('close', () => upstreamClosed());
      pump();
    };
    const req = get('/files/endless', 'client-left');
    await new Promise<void>((resolve) => {
      req.once('response', (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
    });
    await closed;
    await eventually(() => expect(recordOf('client-left')).toMatchObject({ status: 499, error_code: 'client_closed' }));
  });
});

describe('a header undici might refuse', () => {
  it('a header value with a byte outside ASCII reaches the service and the answer comes back, not a 502 or a hang', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ seen: req.headers['x-odd'] ?? null }));
    };
    const url = new URL(gw.url);
    const net = await import('node:net');
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(Buffer.concat([Buffer.from('GET /files/odd HTTP/1.1\r\nhost: x\r\nx-request-id: odd-header\r\nconnection: close\r\nx-odd: caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\n')]));
      });
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.once('end', () => resolve(got));
      socket.once('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 200')).toBe(true);
    expect(raw).toMatch(/"seen":"caf/);
    await eventually(() => expect(recordOf('odd-header')?.status).toBe(200));
  });
});
