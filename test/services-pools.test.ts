/**
 * A service's connection pool cannot be starved: clients that open a large download and
 * never read are cut once nothing has moved for the service's `timeout_ms`, which frees their
 * upstream connections, and a call that finds every connection taken waits a bounded time,
 * then gets 503 `gateway_busy` without the target being blamed.
 *
 * Clients reach the gateway over a Unix socket: a non-reader stalls once the socket buffers
 * between them are full, about 200 KiB there against 4 MiB on loopback TCP, so 130 stalls
 * cost 30 MB of copying rather than a gigabyte. The upstream hop is TCP, as in production.
 */
import { mkdtempSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { parseConfig } from '../src/config/load-config.js';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import type { ErrorShape } from './helpers/raw-http.js';
import { eventually } from './helpers/wait.js';

/** The service's `timeout_ms`: headers, silence, the wait for a connection, a client that stopped reading. */
const TIMEOUT_MS = 300;
const STALLED = 130;
/** The default `connections` of a service. */
const POOL = 128;
/**
 * Several times what the Unix socket's buffers take (about 256 KiB), so a non-reader stalls
 * the pipe; the fake's writes fit in the upstream TCP buffers, so it is not the one that stalls,
 * yet the gateway's upstream connection stays taken until the body has been read through.
 */
const DOWNLOAD_BYTES = 2 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

let upstream: http.Server;
/** `/hold` requests parked until a test answers them: calls in flight that are not downloads. */
const held: ServerResponse[] = [];
let app: FastifyInstance;
let socketPath: string;
const ledger = createMemoryLedger();

/** Writes a large body on demand, honouring backpressure, so memory stays flat however many clients stall. */
function serveDownload(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': DOWNLOAD_BYTES });
  let sent = 0;
  const pump = () => {
    while (sent < DOWNLOAD_BYTES && !res.destroyed) {
      sent += CHUNK.length;
      if (!res.write(CHUNK)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/download') return serveDownload(res);
  if (req.url === '/hold') {
    held.push(res);
    return;
  }
  const text = JSON.stringify({ ok: true });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One call on a fresh connection, read in full. */
function call(path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => (text += part));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.once('error', reject);
    });
    request.once('error', reject);
    request.end();
  });
}

interface StalledClient {
  /** Resolves with the response's status once its headers arrived. */
  status: Promise<number>;
  request: http.ClientRequest;
}

/**
 * A download whose body is never read: the response is paused as soon as it arrives. A paused
 * socket reads nothing, so this side never sees the cut: the gateway's side is watched instead.
 */
function openStalled(path: string): StalledClient {
  const request = http.request({ socketPath, path, agent: false });
  const status = new Promise<number>((resolve, reject) => {
    request.once('response', (res) => {
      res.pause();
      resolve(res.statusCode ?? 0);
    });
    request.once('error', reject);
  });
  request.on('error', () => undefined);
  request.end();
  return { status, request };
}

/** Client connections the gateway holds open. */
function gatewayConnections(): Promise<number> {
  return new Promise((resolve, reject) => app.server.getConnections((err, count) => (err ? reject(err) : resolve(count))));
}

/** Resolves with `value`, or rejects after `ms`: nothing in this file may hang the suite. */
function within<T>(value: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([value, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms).unref())]);
}

beforeAll(async () => {
  upstream = http.createServer(handle);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'konnect-pools-'));
  const config = parseConfig(
    {
      server: { log_level: 'silent' },
      ledger: { spool_dir: join(dir, 'spool') },
      services: [
        { name: 'files', prefix: '/files', timeout_ms: TIMEOUT_MS, targets: [{ url }] },
        { name: 'narrow', prefix: '/narrow', timeout_ms: TIMEOUT_MS, connections: 2, targets: [{ url }] },
      ],
    },
    {},
  );
  app = await buildApp(config, { ledger });
  socketPath = join(dir, 'gateway.sock');
  await app.listen({ path: socketPath });
});

afterEach(() => {
  for (const res of held.splice(0)) res.destroy();
});

afterAll(async () => {
  const closing = app?.close();
  app?.server.closeAllConnections();
  await closing;
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

describe('clients that never read', () => {
  it('are cut after the idle timeout, and a fresh client is served meanwhile', async () => {
    const opened = Date.now();
    const stalled = Array.from({ length: STALLED }, () => openStalled('/files/download'));
    let downloading = 0;
    const poolTaken = new Promise<void>((resolve) => {
      for (const client of stalled) void client.status.then((status) => status === 200 && ++downloading === POOL && resolve());
    });
    // Every connection of the pool is held by a non-reader, and two more non-readers wait.
    await within(poolTaken, 10_000, 'the pool filling with non-readers');

    const started = Date.now();
    const fresh = await within(call('/files/ping'), 5_000, 'the fresh call');
    const elapsed = Date.now() - started;
    expect(fresh.status).toBe(200);
    expect(JSON.parse(fresh.text)).toEqual({ ok: true });
    // At worst it waits for a non-reader to be cut (an idle period, sampled every quarter), then
    // its own round trip: well under its wait's bound plus the headers timeout.
    expect(elapsed).toBeLessThan(3 * TIMEOUT_MS);

    // The last non-readers got a connection once the first were cut, or 503 when none came within their wait.
    const statuses = await within(Promise.all(stalled.map((c) => c.status)), 5_000, 'the last downloads');
    const downloads = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);

    // Every non-reader's connection is cut (this side never reads, so it cannot tell)...
    await eventually(async () => expect(await gatewayConnections()).toBe(0), 200);
    const allCut = Date.now() - opened;
    // Each cut download is recorded once its close has been handled, which can trail the socket count.
    await eventually(async () => expect(ledger.records().filter((r) => r.route === 'service:files' && r.status === 499)).toHaveLength(downloads), 100);
    for (const client of stalled) client.request.destroy();
    // ...and the upstream connections they held are free again: a full pool's worth of calls at once, none waiting.
    const burstStarted = Date.now();
    const burst = await within(Promise.all(Array.from({ length: POOL }, () => call('/files/ping'))), 5_000, 'a full pool of calls');
    const burstMs = Date.now() - burstStarted;
    // A call that found its connection still taken would have waited, then got 503.
    expect(burst.map((a) => a.status)).toEqual(Array.from({ length: POOL }, () => 200));
    console.info(
      `pool taken ${started - opened} ms after opening; fresh call answered in ${elapsed} ms; ${downloads} downloads, ${STALLED - downloads} busy; ` +
        `every non-reader cut within ${allCut} ms; ${POOL} calls after it in ${burstMs} ms`,
    );
  });
});

describe('a saturated pool', () => {
  it('answers 503 gateway_busy after waiting the service timeout, and keeps the target in service', async () => {
    const first = call('/narrow/hold');
    const second = call('/narrow/hold');
    await eventually(async () => expect(held).toHaveLength(2));

    // More refusals than `health.max_fails` (3): were they counted, the target would be ejected.
    const started = Date.now();
    const refused = await within(Promise.all(Array.from({ length: 4 }, () => call('/narrow/ping'))), 5_000, 'calls over the limit');
    const waited = Date.now() - started;
    for (const busy of refused) {
      expect(busy.status).toBe(503);
      expect(busy.headers['retry-after']).toBe('1');
      expect((JSON.parse(busy.text) as ErrorShape).error).toMatchObject({ code: 'gateway_busy', type: 'api_error' });
    }
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(waited).toBeLessThan(TIMEOUT_MS + 1_000);
    expect(ledger.records().filter((r) => r.route === 'service:narrow' && r.error_code === 'gateway_busy')).toHaveLength(4);

    // A slot freed while a call waits goes to that call.
    const waiting = call('/narrow/ping');
    await new Promise((resolve) => setTimeout(resolve, 50));
    held.shift()!.end('done');
    expect((await within(waiting, 5_000, 'the waiting call')).status).toBe(200);
    held.shift()!.end('done');
    expect((await Promise.all([first, second])).map((a) => a.status)).toEqual([200, 200]);

    // Busy is the gateway's own limit: the target was not ejected, the next call goes through.
    expect((await call('/narrow/ping')).status).toBe(200);
  });
});
