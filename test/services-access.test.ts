/**
 * Service routes under the same access policy as the AI routes: keys required, the
 * `services` permission per key, rate limits, and the gateway key never reaching the service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { rawRequest, type ErrorShape } from './helpers/raw-http.js';

const MASTER = 'master-key-for-services-test';

let upstream: FakeServer;
let gw: TestGateway;
const ledger = createMemoryLedger();
const keys: Record<string, { id: string; key: string }> = {};

async function createKey(name: string, policy: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await rawRequest(gw.url, {
    method: 'POST',
    path: '/admin/keys',
    body: JSON.stringify({ name, ...policy }),
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
  });
  expect(res.status).toBe(201);
  return res.json<{ id: string; key: string }>();
}

beforeAll(async () => {
  upstream = await startFakeServer((req, res) => sendJson(res, 200, { headers: req.headers }));
  gw = await startGateway(
    {
      auth: { master_key: MASTER, require_keys: true },
      services: [
        { name: 'users', prefix: '/api/users', targets: [{ url: upstream.url }] },
        { name: 'payroll', prefix: '/api/payroll', approval: 'required', targets: [{ url: upstream.url }] },
      ],
    },
    { ledger },
  );
  keys.allowed = await createKey('users-caller', { services: ['users'] });
  keys.other = await createKey('other-caller', { services: ['billing'] });
  keys.limited = await createKey('limited-caller', { services: ['users'], rpm: 2 });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('keys on a service', () => {
  it('refuses a call without a key with 401 and never reaches the upstream', async () => {
    const before = upstream.requests.length;
    const res = await rawRequest(gw.url, { path: '/api/users/1' });
    expect(res.status).toBe(401);
    expect(res.json<ErrorShape>().error.type).toBe('authentication_error');
    expect(upstream.requests.length).toBe(before);
  });

  it('serves a key allowed to use the service, without forwarding the gateway key', async () => {
    for (const headers of [{ authorization: `Bearer ${keys.allowed!.key}` }, { 'x-api-key': keys.allowed!.key }]) {
      const id = `allowed-${Object.keys(headers)[0]}`;
      const res = await rawRequest(gw.url, { path: '/api/users/1', headers: { ...headers, 'x-request-id': id } });
      expect(res.status).toBe(200);
      const seen = res.json<{ headers: Record<string, string> }>().headers;
      expect(seen.authorization).toBeUndefined();
      expect(seen['x-api-key']).toBeUndefined();
      expect(JSON.stringify(seen)).not.toContain(keys.allowed!.key);
      expect(ledger.records().find((r) => r.client_request_id === id)).toMatchObject({ route: 'service:users', key_id: keys.allowed!.id, status: 200 });
    }
  });

  it('refuses a key without the service in its list with 403', async () => {
    const before = upstream.requests.length;
    const res = await rawRequest(gw.url, { path: '/api/users/1', headers: { authorization: `Bearer ${keys.other!.key}` } });
    expect(res.status).toBe(403);
    expect(res.json<ErrorShape>().error.type).toBe('permission_error');
    expect(upstream.requests.length).toBe(before);
  });

  it('applies the key rate limit with 429 and retry-after', async () => {
    const call = () => rawRequest(gw.url, { path: '/api/users/1', headers: { authorization: `Bearer ${keys.limited!.key}` } });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json<ErrorShape>().error.type).toBe('rate_limit_error');
  });
});

describe('a service with approval: required', () => {
  async function admin(method: string, path: string, body?: unknown) {
    const res = await rawRequest(gw.url, {
      method,
      path,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${MASTER}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    return res;
  }

  it('needs an approved subscription of the caller\'s team, and stops at revocation', async () => {
    expect((await admin('POST', '/admin/teams', { name: 'Payroll Team', id: 'payroll-team' })).status).toBe(201);
    const member = await createKey('payroll-caller', { team: 'payroll-team' });
    const call = () => rawRequest(gw.url, { path: '/api/payroll/1', headers: { authorization: `Bearer ${member.key}` } });
    const before = upstream.requests.length;

    const refused = await call();
    expect(refused.status).toBe(403);
    expect(refused.json<ErrorShape>().error.message).toContain('subscription');
    expect(upstream.requests.length).toBe(before);

    const asked = await admin('POST', '/admin/subscriptions', { team: 'payroll-team', service: 'payroll' });
    expect(asked.status).toBeLessThan(300);
    const id = asked.json<{ id: string }>().id;
    expect((await call()).status).toBe(403);

    expect((await admin('POST', `/admin/subscriptions/${id}/approve`)).status).toBe(200);
    expect((await call()).status).toBe(200);

    expect((await admin('POST', `/admin/subscriptions/${id}/revoke`)).status).toBe(200);
    expect((await call()).status).toBe(403);
  });
});
