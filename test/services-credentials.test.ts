/**
 * A credential the gateway consumed never reaches a service: the master key and gateway keys,
 * as a Bearer token or `x-api-key`, are removed before forwarding, while the caller's other
 * headers pass and a service's own `request_headers.set` still sets `authorization`.
 */
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentedCredential } from '../src/http/presented-credential.js';
import { presentedKey } from '../src/plugins/admin-auth.js';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { rawRequest } from './helpers/raw-http.js';

const MASTER = 'master-key-never-forwarded';
const SERVICE_TOKEN = 'Bearer service-own-token';

let upstream: FakeServer;
let gw: TestGateway;
let gatewayKey: string;

/** The headers the service received for one call through the gateway. */
async function forwarded(path: string, headers: Record<string, string>): Promise<Record<string, string | undefined>> {
  const before = upstream.requests.length;
  const res = await rawRequest(gw.url, { path, headers });
  expect(res.status).toBe(200);
  expect(upstream.requests.length).toBe(before + 1);
  return upstream.requests.at(-1)!.headers as Record<string, string | undefined>;
}

beforeAll(async () => {
  upstream = await startFakeServer((_req, res) => sendJson(res, 200, { ok: true }));
  gw = await startGateway({
    // Keys optional: a key the gateway does not know is the caller's own, and passes.
    auth: { master_key: MASTER, require_keys: false },
    services: [
      { name: 'plain', prefix: '/plain', targets: [{ url: upstream.url }] },
      { name: 'signed', prefix: '/signed', request_headers: { set: { authorization: SERVICE_TOKEN } }, targets: [{ url: upstream.url }] },
    ],
  });
  const res = await rawRequest(gw.url, {
    method: 'POST',
    path: '/admin/keys',
    body: JSON.stringify({ name: 'service-caller' }),
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
  });
  expect(res.status).toBe(201);
  gatewayKey = res.json<{ key: string }>().key;
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('the credential the gateway consumed', () => {
  it.each([
    ['the master key as a Bearer token', () => ({ authorization: `Bearer ${MASTER}` })],
    ['the master key as x-api-key', () => ({ 'x-api-key': MASTER })],
    ['a gateway key as a Bearer token', () => ({ authorization: `Bearer ${gatewayKey}` })],
    ['a gateway key as x-api-key', () => ({ 'x-api-key': gatewayKey })],
  ])('never reaches the service: %s', async (_what, headers) => {
    const seen = await forwarded('/plain/items', { ...headers(), 'x-custom': 'kept' });
    expect(seen.authorization).toBeUndefined();
    expect(seen['x-api-key']).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(MASTER);
    expect(JSON.stringify(seen)).not.toContain(gatewayKey);
    expect(seen['x-custom']).toBe('kept');
  });

  it('is removed while the other credential header passes: it may be the service own', async () => {
    const withBearer = await forwarded('/plain/items', { authorization: `Bearer ${MASTER}`, 'x-api-key': 'service-api-key' });
    expect(withBearer.authorization).toBeUndefined();
    expect(withBearer['x-api-key']).toBe('service-api-key');

    const withApiKey = await forwarded('/plain/items', { 'x-api-key': gatewayKey, authorization: 'Basic c2VydmljZTpvd24=' });
    expect(withApiKey['x-api-key']).toBeUndefined();
    expect(withApiKey.authorization).toBe('Basic c2VydmljZTpvd24=');
  });

  it('is removed from both headers when the caller sent it twice', async () => {
    const seen = await forwarded('/plain/items', { authorization: `Bearer ${MASTER}`, 'x-api-key': MASTER });
    expect(seen.authorization).toBeUndefined();
    expect(seen['x-api-key']).toBeUndefined();
  });

  it("gives way to the service's own request_headers.set authorization", async () => {
    const consumed: Array<Record<string, string>> = [{ authorization: `Bearer ${MASTER}` }, { 'x-api-key': MASTER }, { authorization: `Bearer ${gatewayKey}` }];
    for (const headers of consumed) {
      const seen = await forwarded('/signed/items', headers);
      expect(seen.authorization).toBe(SERVICE_TOKEN);
      expect(seen['x-api-key']).toBeUndefined();
    }
  });

  it('leaves a key the gateway did not take as the caller own (keys optional)', async () => {
    const seen = await forwarded('/plain/items', { authorization: SERVICE_TOKEN });
    expect(seen.authorization).toBe(SERVICE_TOKEN);
  });
});

describe('presentedCredential', () => {
  it.each([
    [{ authorization: 'Bearer abc' }],
    [{ authorization: 'Bearer   abc  ' }],
    [{ authorization: 'Bearer ' }],
    [{ authorization: 'Bearer ', 'x-api-key': 'k' }],
    [{ authorization: 'Basic abc', 'x-api-key': 'k' }],
    [{ authorization: 'bearer abc' }],
    [{ 'x-api-key': 'k' }],
    [{ 'x-api-key': '' }],
    [{}],
  ])('reads the same secret as presentedKey: %j', (headers) => {
    const request = { headers } as unknown as FastifyRequest;
    expect(presentedCredential(headers)?.secret).toBe(presentedKey(request));
  });
});
