/**
 * Dot segments and separators encoded twice or more (`%252e%252e`) are refused with 400 on
 * service routes: we decode once, but an upstream behind another proxy, or one that decodes
 * twice, would read `..` again. Legitimate percent-encoding still passes untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../src/core/errors.js';
import { toPathRule, toUpstreamPath } from '../src/services/upstream-path.js';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { rawRequest, type ErrorShape } from './helpers/raw-http.js';

const strip = toPathRule('/api/users', '');

const refused = [
  '/api/users/%252e%252e/orders',
  '/api/users/%252E%252E/orders',
  '/api/users/%252e%252e',
  '/api/users/.%252e/orders',
  '/api/users/%252e./orders',
  '/api/users/%252e',
  '/api/users/%25252e%25252e/orders',
  '/api/users/%252e%252e;x/orders',
  '/api/users/a%252fb',
  '/api/users/..%252forders',
  '/api/users/a%255cb',
  '/api/users/a%2500',
];

const passed: Array<[string, string]> = [
  ['/api/users/100%25', '/100%25'],
  ['/api/users/a%2520b', '/a%2520b'],
  ['/api/users/%252e%252ex', '/%252e%252ex'],
  ['/api/users/%25zz', '/%25zz'],
  ['/api/users/caf%25C3%25A9', '/caf%25C3%25A9'],
];

describe('toUpstreamPath', () => {
  it.each(refused)('refuses %s with a 400', (input) => {
    let caught: unknown;
    try {
      toUpstreamPath(input, strip);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).status).toBe(400);
  });

  it.each(passed)('forwards %s as sent', (input, expected) => {
    expect(toUpstreamPath(input, strip)).toBe(expected);
  });
});

describe('over HTTP', () => {
  let upstream: FakeServer;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startFakeServer((req, res) => sendJson(res, 200, { url: req.url }));
    gw = await startGateway({ services: [{ name: 'users', prefix: '/api/users', targets: [{ url: upstream.url }] }] });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it.each(refused)('refuses %s with 400 and never reaches the upstream', async (path) => {
    const before = upstream.requests.length;
    const res = await rawRequest(gw.url, { path });
    expect(res.status).toBe(400);
    expect(res.json<ErrorShape>().error).toMatchObject({ type: 'invalid_request_error', param: 'path' });
    expect(upstream.requests.length).toBe(before);
  });

  it('still forwards a literal percent sign encoded once', async () => {
    const res = await rawRequest(gw.url, { path: '/api/users/100%25' });
    expect(res.status).toBe(200);
    expect(res.json<{ url: string }>().url).toBe('/100%25');
  });
});
