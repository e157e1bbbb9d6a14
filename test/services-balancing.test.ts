/**
 * Service targets under load and failure, with real local upstreams: weights, passive
 * ejection and recovery, retries only where safe, timeouts, every target down, and the
 * active health check.
 */
import { eventually } from './helpers/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { closedPort } from './helpers/ports.js';
import { rawRequest, type ErrorShape } from './helpers/raw-http.js';

/** A port nothing listens on: connections to it are refused. */
async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}


const ok = (name: string) => startFakeServer((req, res) => sendJson(res, 200, { from: name, method: req.method, body: req.body ?? null }));

const servers: FakeServer[] = [];
const health = { b: 200 };
let heavy: FakeServer;
let light: FakeServer;
let stableA: FakeServer;
let flakyB: FakeServer;
let failB = false;
let live: FakeServer;
let busy1: FakeServer;
let busy2: FakeServer;
let stall1: FakeServer;
let stall2: FakeServer;
let checkedA: FakeServer;
let checkedB: FakeServer;
let gw: TestGateway;
const ledger = createMemoryLedger();

beforeAll(async () => {
  heavy = await ok('heavy');
  light = await ok('light');
  stableA = await ok('a');
  flakyB = await startFakeServer((_req, res) => (failB ? sendJson(res, 500, { error: 'boom' }) : sendJson(res, 200, { from: 'b' })));
  live = await ok('live');
  busy1 = await startFakeServer((_req, res) => sendJson(res, 503, { error: 'busy' }, { 'retry-after': '7', 'x-busy': '1' }));
  busy2 = await startFakeServer((_req, res) => sendJson(res, 503, { error: 'busy' }, { 'retry-after': '7', 'x-busy': '2' }));
  // Never answers: the gateway's timeout has to give up (the socket closes with the server).
  const stall = () => startFakeServer(() => new Promise<void>(() => undefined));
  stall1 = await stall();
  stall2 = await stall();
  checkedA = await ok('checked-a');
  checkedB = await startFakeServer((req, res) => (req.url === '/healthz' ? sendJson(res, health.b, {}) : sendJson(res, 200, { from: 'checked-b' })));
  servers.push(heavy, light, stableA, flakyB, live, busy1, busy2, stall1, stall2, checkedA, checkedB);

  const [dead1, dead2, dead3, dead4, dead5] = await Promise.all([deadUrl(), deadUrl(), deadUrl(), deadUrl(), deadUrl()]);
  gw = await startGateway(
    {
      services: [
        { name: 'weighted', prefix: '/weighted', targets: [{ url: heavy.url, weight: 3 }, { url: light.url, weight: 1 }] },
        { name: 'flaky', prefix: '/flaky', health: { max_fails: 2, cooldown_ms: 400 }, targets: [{ url: stableA.url }, { url: flakyB.url }] },
        { name: 'half-dead', prefix: '/half-dead', health: { cooldown_ms: 60000 }, targets: [{ url: dead1 }, { url: live.url }] },
        { name: 'dead-get', prefix: '/dead-get', targets: [{ url: dead2 }, { url: dead3 }] },
        { name: 'dead-post', prefix: '/dead-post', targets: [{ url: dead4 }, { url: dead5 }] },
        { name: 'busy', prefix: '/busy', health: { max_fails: 1000 }, targets: [{ url: busy1.url }, { url: busy2.url }] },
        { name: 'slow', prefix: '/slow', timeout_ms: 200, health: { max_fails: 1000 }, targets: [{ url: stall1.url }, { url: stall2.url }] },
        {
          name: 'checked',
          prefix: '/checked',
          health: { check: { path: '/healthz', interval_ms: 100, timeout_ms: 500 } },
          targets: [{ url: checkedA.url }, { url: checkedB.url }],
        },
      ],
    },
    { ledger },
  );
});

afterAll(async () => {
  await gw?.close();
  await Promise.all(servers.map((s) => s.close()));
});

const recordOf = (id: string) => ledger.records().find((r) => r.client_request_id === id);

describe('weights', () => {
  it('spreads hundreds of requests 3:1 within tolerance', async () => {
    const n = 600;
    for (let i = 0; i < n; i++) {
      const res = await rawRequest(gw.url, { path: `/weighted/${i}` });
      expect(res.status).toBe(200);
    }
    const share = heavy.requests.length / n;
    expect(heavy.requests.length + light.requests.length).toBe(n);
    // 3:1 is 0.75; ±0.07 is about four standard deviations at n = 600.
    expect(share).toBeGreaterThan(0.68);
    expect(share).toBeLessThan(0.82);
  });
});

describe('passive health', () => {
  it('ejects a target after max_fails 5xx answers and takes it back after the cooldown', async () => {
    failB = true;
    // Until B has failed twice (both 500s go to the client: a 500 is not retried).
    await eventually(async () => {
      await rawRequest(gw.url, { path: '/flaky/x' });
      return flakyB.requests.length >= 2;
    }, { what: 'B answered twice' });
    const bBefore = flakyB.requests.length;
    for (let i = 0; i < 30; i++) {
      const res = await rawRequest(gw.url, { path: '/flaky/x' });
      expect(res.status).toBe(200);
      expect(res.json<{ from: string }>().from).toBe('a');
    }
    expect(flakyB.requests.length).toBe(bBefore);

    failB = false;
    // Polled until the cooldown ends: calls meanwhile go to A.
    await eventually(async () => {
      await rawRequest(gw.url, { path: '/flaky/x' });
      return flakyB.requests.length > bBefore;
    }, { what: 'B back in rotation after its cooldown' });
  });

  it('ejects a target that refuses at once, after retrying the GET elsewhere', async () => {
    let i = 0;
    await eventually(async () => {
      const id = `half-dead-${i++}`;
      const res = await rawRequest(gw.url, { path: '/half-dead/x', headers: { 'x-request-id': id } });
      expect(res.status).toBe(200);
      return recordOf(id)?.attempts === 2;
    }, { what: 'a call that met the dead target first' });
    // The dead target is out: every later call takes one attempt.
    for (let j = 0; j < 20; j++) {
      const id = `half-dead-after-${j}`;
      const res = await rawRequest(gw.url, { path: '/half-dead/x', headers: { 'x-request-id': id } });
      expect(res.status).toBe(200);
      expect(recordOf(id)?.attempts).toBe(1);
    }
  });
});

describe('retries', () => {
  it('retries a refused GET on the other target, then answers 502', async () => {
    const res = await rawRequest(gw.url, { path: '/dead-get/x', headers: { 'x-request-id': 'dead-get-1' } });
    expect(res.status).toBe(502);
    expect(res.json<ErrorShape>().error).toMatchObject({ type: 'api_error', code: 'upstream_unavailable' });
    expect(recordOf('dead-get-1')).toMatchObject({ status: 502, attempts: 2, error_code: 'upstream_unavailable' });
  });

  it('answers 503 at once while every target is ejected', async () => {
    const res = await rawRequest(gw.url, { path: '/dead-get/x', headers: { 'x-request-id': 'dead-get-2' } });
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.json<ErrorShape>().error).toMatchObject({ type: 'api_error', code: 'service_unavailable' });
    expect(recordOf('dead-get-2')).toMatchObject({ status: 503, attempts: 0 });
  });

  it('never retries a POST, even on a refused connection', async () => {
    const res = await rawRequest(gw.url, {
      method: 'POST',
      path: '/dead-post/x',
      body: '{"charge":1}',
      headers: { 'content-type': 'application/json', 'x-request-id': 'dead-post-1' },
    });
    expect(res.status).toBe(502);
    expect(recordOf('dead-post-1')).toMatchObject({ status: 502, attempts: 1 });
  });

  it('retries a GET answered 503 once on the other target and passes the last 503 through', async () => {
    const before = busy1.requests.length + busy2.requests.length;
    const res = await rawRequest(gw.url, { path: '/busy/x', headers: { 'x-request-id': 'busy-get' } });
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({ error: 'busy' });
    expect(res.headers['retry-after']).toBe('7');
    expect(busy1.requests.length + busy2.requests.length).toBe(before + 2);
    expect(recordOf('busy-get')).toMatchObject({ status: 503, attempts: 2 });
  });

  it('does not retry a POST answered 503', async () => {
    const before = busy1.requests.length + busy2.requests.length;
    const res = await rawRequest(gw.url, { method: 'POST', path: '/busy/x', body: 'once', headers: { 'x-request-id': 'busy-post' } });
    expect(res.status).toBe(503);
    expect(busy1.requests.length + busy2.requests.length).toBe(before + 1);
    expect(recordOf('busy-post')).toMatchObject({ status: 503, attempts: 1 });
  });

  it('retries a PUT with its body intact when the first target refused before reading it', async () => {
    // Fresh gateway so the dead target is not already ejected.
    const dead = await deadUrl();
    const target = await ok('put-target');
    const local = createMemoryLedger();
    const gw2 = await startGateway({ services: [{ name: 'put', prefix: '/put', targets: [{ url: dead }, { url: target.url }] }] }, { ledger: local });
    try {
      const body = JSON.stringify({ value: 'x'.repeat(100_000) });
      let i = 0;
      await eventually(async () => {
        const id = `put-${i++}`;
        const res = await rawRequest(gw2.url, { method: 'PUT', path: '/put/item', body, headers: { 'content-type': 'application/json', 'x-request-id': id } });
        expect(res.status).toBe(200);
        expect(res.json<{ body: unknown }>().body).toEqual(JSON.parse(body));
        return local.records().find((r) => r.client_request_id === id)?.attempts === 2;
      }, { what: 'a PUT that met the dead target first' });
    } finally {
      await gw2.close();
      await target.close();
    }
  });
});

describe('timeouts', () => {
  it('answers 504 when the upstream is slower than timeout_ms, without retrying', async () => {
    const before = stall1.requests.length + stall2.requests.length;
    const res = await rawRequest(gw.url, { path: '/slow/x', headers: { 'x-request-id': 'slow-1' } });
    expect(res.status).toBe(504);
    expect(res.json<ErrorShape>().error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    expect(stall1.requests.length + stall2.requests.length).toBe(before + 1);
    expect(recordOf('slow-1')).toMatchObject({ status: 504, attempts: 1, error_code: 'upstream_timeout' });
  });
});

describe('active health check', () => {
  it('takes a target out while its check fails and back when it passes', async () => {
    const checks = () => checkedB.requests.filter((r) => r.url === '/healthz').length;
    const checksBefore = checks();
    health.b = 500;
    // Two more rounds: the second surely started after the change.
    await eventually(async () => checks() >= checksBefore + 2, { what: 'two checks of B' });
    const served = () => checkedB.requests.filter((r) => r.url !== '/healthz').length;
    const before = served();
    for (let i = 0; i < 20; i++) {
      const res = await rawRequest(gw.url, { path: '/checked/x' });
      expect(res.json<{ from: string }>().from).toBe('checked-a');
    }
    expect(served()).toBe(before);

    health.b = 200;
    await eventually(async () => {
      await rawRequest(gw.url, { path: '/checked/x' });
      return served() > before;
    }, { what: 'B serving again after a passing check' });
  });
});
