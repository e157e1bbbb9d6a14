/**
 * REST service routing against real local upstreams: prefix stripping and rewriting, methods,
 * headers both ways, query strings, unknown paths, traversal attempts, and the ledger record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startFakeServer, type FakeServer, type RecordedRequest } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { rawRequest, type ErrorShape } from './helpers/raw-http.js';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

const echo = (req: RecordedRequest, res: Parameters<Parameters<typeof startFakeServer>[0]>[1]) =>
  sendJson(res, 200, { method: req.method, url: req.url, headers: req.headers, body: req.body ?? null }, {
    // Hop-by-hop and listed-in-connection headers the gateway must not pass back.
    connection: 'keep-alive, x-upstream-hop',
    'keep-alive': 'timeout=5',
    'x-upstream-hop': 'secret-for-this-hop',
    'x-upstream-internal': 'drop-me',
    'x-upstream-ok': 'yes',
  });

let users: FakeServer;
let orders: FakeServer;
let legacy: FakeServer;
let gw: TestGateway;
const ledger = createMemoryLedger();

beforeAll(async () => {
  users = await startFakeServer(echo);
  orders = await startFakeServer(echo);
  legacy = await startFakeServer(echo);
  gw = await startGateway(
    {
      services: [
        { name: 'users', prefix: '/api/users', targets: [{ url: users.url }] },
        { name: 'orders', prefix: '/api/orders/', strip_prefix: false, methods: ['GET', 'POST'], targets: [{ url: `${orders.url}/base/` }] },
        {
          name: 'legacy',
          prefix: '/legacy',
          rewrite: '/internal/v2',
          preserve_host: true,
          request_headers: { set: { 'x-service-token': 'tok-123', 'X-Env': 'test' }, remove: ['x-drop-me'] },
          response_headers: { set: { 'x-served-by': 'konnect' }, remove: ['X-Upstream-Internal'] },
          targets: [{ url: legacy.url }],
        },
      ],
    },
    { ledger },
  );
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([users?.close(), orders?.close(), legacy?.close()]);
});

describe('paths', () => {
  it('strips the prefix by default and keeps the query string as sent', async () => {
    const res = await rawRequest(gw.url, { path: '/api/users/7/profile?fields=a,b&x=%20y&x=2' });
    expect(res.status).toBe(200);
    expect(res.json<Echo>().url).toBe('/7/profile?fields=a,b&x=%20y&x=2');
  });

  it('maps the bare prefix and the prefix with a slash to the upstream root', async () => {
    expect((await rawRequest(gw.url, { path: '/api/users' })).json<Echo>().url).toBe('/');
    expect((await rawRequest(gw.url, { path: '/api/users/' })).json<Echo>().url).toBe('/');
    expect((await rawRequest(gw.url, { path: '/api/users?q=1' })).json<Echo>().url).toBe('/?q=1');
  });

  it('keeps the prefix with strip_prefix: false, under the target base path', async () => {
    const res = await rawRequest(gw.url, { path: '/api/orders/42?expand=items' });
    expect(res.json<Echo>().url).toBe('/base/api/orders/42?expand=items');
  });

  it('rewrites the prefix', async () => {
    expect((await rawRequest(gw.url, { path: '/legacy/items/3' })).json<Echo>().url).toBe('/internal/v2/items/3');
    expect((await rawRequest(gw.url, { path: '/legacy' })).json<Echo>().url).toBe('/internal/v2');
  });

  it('collapses double slashes and resolves dot segments inside the prefix', async () => {
    expect((await rawRequest(gw.url, { path: '/api/users//7///profile' })).json<Echo>().url).toBe('/7/profile');
    expect((await rawRequest(gw.url, { path: '/api/users/a/./b/../c' })).json<Echo>().url).toBe('/a/c');
    expect((await rawRequest(gw.url, { path: '/api/users/.well-known/x' })).json<Echo>().url).toBe('/.well-known/x');
  });

  it('keeps harmless percent-encoding as sent', async () => {
    expect((await rawRequest(gw.url, { path: '/api/users/a%20b/%C3%A9' })).json<Echo>().url).toBe('/a%20b/%C3%A9');
  });

  it('answers unknown paths with 404 in the gateway error shape', async () => {
    for (const path of ['/nope', '/api', '/api/user', '/api/usersX/1', '/API/users/1']) {
      const res = await rawRequest(gw.url, { path });
      expect(res.status, path).toBe(404);
      expect(res.json<ErrorShape>().error).toMatchObject({ type: 'not_found_error', code: 'not_found' });
    }
  });
});

describe('traversal', () => {
  const attempts = [
    '/api/users/../orders/1',
    '/api/users/../../etc/passwd',
    '/api/users/a/../../orders',
    '/api/users/%2e%2e/orders/1',
    '/api/users/%2E%2E/%2e%2E/etc/passwd',
    '/api/users/.%2e/orders',
    '/api/users/%2e/x',
    '/api/users/..%2forders',
    '/api/users/..%2Forders',
    '/api/users/a%2f..%2f..%2forders',
    '/api/users/..%5corders',
    '/api/users/..\\orders',
    '/api/users/a%00b',
    '/api/users/..;/orders',
    '/api/users/%2e%2e;x/orders',
    '/api/users/%zz',
  ];

  it.each(attempts)('refuses %s with 400 and never reaches an upstream', async (path) => {
    const before = users.requests.length + orders.requests.length + legacy.requests.length;
    const res = await rawRequest(gw.url, { path });
    expect(res.status).toBe(400);
    expect(res.json<ErrorShape>().error).toMatchObject({ type: 'invalid_request_error' });
    expect(users.requests.length + orders.requests.length + legacy.requests.length).toBe(before);
  });

  it('treats an encoded prefix as the prefix but still checks what follows', async () => {
    expect((await rawRequest(gw.url, { path: '/api/%75sers/9' })).json<Echo>().url).toBe('/9');
    const res = await rawRequest(gw.url, { path: '/api/%75sers/%2e%2e/orders' });
    expect(res.status).toBe(400);
  });

  it('never takes the upstream host from the request', async () => {
    const before = users.requests.length;
    const absolute = await rawRequest(gw.url, { path: `http://127.0.0.1:${orders.port}/api/users/1` });
    expect([400, 404]).toContain(absolute.status);
    const hosted = await rawRequest(gw.url, { path: '/api/users/1', headers: { host: `127.0.0.1:${orders.port}` } });
    expect(hosted.status).toBe(200);
    expect(users.requests.length).toBe(before + 1);
    expect(hosted.json<Echo>().headers.host).toBe(`127.0.0.1:${users.port}`);
  });
});

describe('methods', () => {
  it('forwards every default method with its body', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const body = method === 'GET' ? undefined : JSON.stringify({ m: method });
      const headers = body ? { 'content-type': 'application/json' } : {};
      const res = await rawRequest(gw.url, { method, path: '/api/users/1', body, headers });
      expect(res.status, method).toBe(200);
      const seen = res.json<Echo>();
      expect(seen.method).toBe(method);
      if (body) expect(seen.body).toEqual({ m: method });
    }
    const head = await rawRequest(gw.url, { method: 'HEAD', path: '/api/users/1' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('answers a method outside `methods` with 405 and an allow header', async () => {
    const before = orders.requests.length;
    const res = await rawRequest(gw.url, { method: 'DELETE', path: '/api/orders/1' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(res.json<ErrorShape>().error).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed' });
    expect(orders.requests.length).toBe(before);
  });

  it('does not allow TRACE unless configured', async () => {
    const res = await rawRequest(gw.url, { method: 'TRACE', path: '/api/users/1' });
    expect(res.status).toBe(405);
  });

  it('passes any content type through unparsed', async () => {
    const form = 'a=1&b=%20two';
    const res = await rawRequest(gw.url, { method: 'POST', path: '/api/users', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.json<Echo>().body).toBe(form);
    const bad = '{"not json';
    const res2 = await rawRequest(gw.url, { method: 'POST', path: '/api/users', body: bad, headers: { 'content-type': 'application/json' } });
    expect(res2.status).toBe(200);
    expect(res2.json<Echo>().body).toBe(bad);
  });
});

describe('headers', () => {
  it('sets x-forwarded-* and x-request-id, appending to a client x-forwarded-for', async () => {
    const res = await rawRequest(gw.url, {
      path: '/api/users/1',
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-host': 'forged.example', 'x-request-id': 'req-abc-1', host: 'gw.example:8080' },
    });
    const seen = res.json<Echo>().headers;
    expect(seen['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(seen['x-real-ip']).toBe('127.0.0.1');
    expect(seen['x-forwarded-host']).toBe('gw.example:8080');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-prefix']).toBe('/api/users');
    expect(seen['x-request-id']).toBe('req-abc-1');
    expect(seen.host).toBe(`127.0.0.1:${users.port}`);
    expect(res.headers['x-request-id']).toBe('req-abc-1');
  });

  it('removes hop-by-hop headers both ways, including ones listed in connection', async () => {
    const res = await rawRequest(gw.url, {
      method: 'POST',
      path: '/api/users/1',
      body: 'x',
      headers: {
        connection: 'keep-alive, x-client-hop',
        'keep-alive': 'timeout=5',
        'x-client-hop': 'for-the-gateway-only',
        te: 'trailers',
        'proxy-authorization': 'Basic c2VjcmV0',
        expect: '100-continue',
        'x-end-to-end': 'kept',
      },
    });
    expect(res.status).toBe(200);
    const seen = res.json<Echo>().headers;
    for (const name of ['x-client-hop', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'expect', 'upgrade']) {
      expect(seen[name], name).toBeUndefined();
    }
    expect(seen['x-end-to-end']).toBe('kept');
    expect(res.headers['x-upstream-hop']).toBeUndefined();
    // The gateway's own keep-alive header may be there; the upstream's must not.
    expect(res.headers['keep-alive']).not.toBe('timeout=5');
    expect(res.headers['x-upstream-ok']).toBe('yes');
  });

  it('applies request and response header changes and preserve_host', async () => {
    const res = await rawRequest(gw.url, {
      path: '/legacy/x',
      headers: { host: 'public.example', 'x-drop-me': '1', 'x-env': 'client-value', 'x-kept': 'k' },
    });
    const seen = res.json<Echo>().headers;
    expect(seen['x-service-token']).toBe('tok-123');
    expect(seen['x-env']).toBe('test');
    expect(seen['x-drop-me']).toBeUndefined();
    expect(seen['x-kept']).toBe('k');
    expect(seen.host).toBe('public.example');
    expect(seen['x-forwarded-prefix']).toBe('/legacy');
    expect(res.headers['x-served-by']).toBe('konnect');
    expect(res.headers['x-upstream-internal']).toBeUndefined();
    expect(res.headers['x-upstream-ok']).toBe('yes');
  });

  it('forwards the client authorization when it is not a gateway key', async () => {
    const res = await rawRequest(gw.url, { path: '/api/users/1', headers: { authorization: 'Bearer service-own-token' } });
    expect(res.json<Echo>().headers.authorization).toBe('Bearer service-own-token');
  });

  it('passes upstream statuses and bodies through untouched', async () => {
    users.enqueue((_req, res) => sendJson(res, 404, { detail: 'no such user' }, { 'x-from': 'users' }));
    const res = await rawRequest(gw.url, { path: '/api/users/404' });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ detail: 'no such user' });
    expect(res.headers['x-from']).toBe('users');
  });
});

describe('ledger', () => {
  it('records one service call with route, status, latency, attempts and bytes', async () => {
    const id = 'ledger-check-1';
    const body = JSON.stringify({ hello: 'world' });
    const res = await rawRequest(gw.url, {
      method: 'POST',
      path: '/api/users/ledger',
      body,
      headers: { 'content-type': 'application/json', 'x-request-id': id, 'x-gateway-tags': 'team-a, batch' },
    });
    expect(res.status).toBe(200);
    await ledger.flush();
    const record = ledger.records().find((r) => r.client_request_id === id);
    expect(record).toMatchObject({
      route: 'service:users',
      status: 200,
      attempts: 1,
      model: null,
      prompt_tokens: 0,
      completion_tokens: 0,
      cost_nano_usd: 0,
      tags: ['team-a', 'batch'],
      request_bytes: Buffer.byteLength(body),
      response_bytes: res.body.length,
    });
    expect(record!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(ledger.records().filter((r) => r.client_request_id === id)).toHaveLength(1);
  });

  it('records refused calls with their status and error code', async () => {
    await rawRequest(gw.url, { method: 'DELETE', path: '/api/orders/1', headers: { 'x-request-id': 'ledger-405' } });
    await rawRequest(gw.url, { path: '/api/users/%2e%2e/x', headers: { 'x-request-id': 'ledger-400' } });
    expect(ledger.records().find((r) => r.client_request_id === 'ledger-405')).toMatchObject({ route: 'service:orders', status: 405, error_code: 'method_not_allowed', attempts: 0 });
    expect(ledger.records().find((r) => r.client_request_id === 'ledger-400')).toMatchObject({ route: 'service:users', status: 400, error_code: 'invalid_request' });
  });
});
