/**
 * The admin API authenticates before it reads or validates anything: without the master key a
 * malformed or invalid body is a 401 (403 when the admin API is off), never a 400 that would
 * tell a stranger what the route expects.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { accessConfig, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

/** Admin routes that validate a body, query or path, each with input it refuses. */
const INVALID: Array<[method: string, path: string, body: string | undefined]> = [
  ['POST', '/admin/teams', '{"name": 42}'],
  ['PATCH', '/admin/teams/ops', '{"rpm": "many"}'],
  ['POST', '/admin/keys', '{'],
  ['PATCH', '/admin/keys/k1', '{"expires_at": 7}'],
  ['POST', '/admin/subscriptions', '{"team": "a", "prompt": "p", "service": "s"}'],
  ['GET', '/admin/subscriptions?status=odd', undefined],
  ['POST', '/admin/prompts', '[1, 2]'],
  ['PUT', '/admin/config/models/x', 'not json'],
  ['PUT', '/admin/config/providers/x?persist=maybe', '{}'],
  ['GET', '/admin/audit?limit=0', undefined],
  ['GET', '/admin/config/audit?limit=-1', undefined],
  ['GET', '/admin/usage?group_by=nonsense', undefined],
];

async function send(gw: TestGateway, method: string, path: string, body: string | undefined, key?: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body,
  });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as { error?: { code: string } }) : {};
  return { status: res.status, code: parsed.error?.code };
}

describe('with a master key', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(accessConfig());
  });
  afterAll(async () => {
    await gw?.close();
  });

  test('no key or a wrong key: 401 before the body is parsed or validated', async () => {
    for (const [method, path, body] of INVALID) {
      expect(await send(gw, method, path, body), `${method} ${path}`).toEqual({ status: 401, code: 'unauthorized' });
      expect(await send(gw, method, path, body, 'sk-not-the-master-key'), `${method} ${path}`).toEqual({ status: 401, code: 'invalid_api_key' });
    }
  });

  test('the master key: the same requests are validated (400)', async () => {
    for (const [method, path, body] of INVALID) {
      expect((await send(gw, method, path, body, MASTER)).status, `${method} ${path}`).toBe(400);
    }
  });
});

test('without a master key the admin API is off: 403 before validation', async () => {
  const config = accessConfig();
  const gw = await startGateway({ ...config, auth: { ...config.auth, master_key: '' } });
  try {
    for (const [method, path, body] of INVALID) {
      expect(await send(gw, method, path, body), `${method} ${path}`).toEqual({ status: 403, code: 'forbidden' });
    }
  } finally {
    await gw.close();
  }
});
