/**
 * Keys and teams through the admin API, and the auth stage in front of /v1: 401 and 403
 * paths, expiry, revocation, require_keys on and off, /v1/models filtering, and secrets that
 * never show up in answers, logs, the audit log or the ledger. On the real Redis and on the
 * embedded memory store.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { accessConfig, admin, chat, clientFor, createKey, createTeam, MASTER } from './helpers/access.js';
import { dropPrefix, uniquePrefix } from './helpers/redis.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const prefix = uniquePrefix('access-keys');
afterAll(() => dropPrefix(prefix));

describe.each([{ store: 'redis' }, { store: 'memory' }])('keys and teams on $store', ({ store }) => {
  let gw: TestGateway;
  const ledger = createMemoryLedger();
  const logs: string[] = [];
  const secrets: string[] = [];

  beforeAll(async () => {
    const config = { ...accessConfig(store === 'redis' ? { prefix: `${prefix}${store}:` } : {}), server: { log_level: 'debug' } };
    gw = await startGateway(config, { ledger, logStream: { write: (line) => void logs.push(line) } });
  });
  afterAll(() => gw.close());

  test('the admin API needs the master key', async () => {
    const none = await fetch(`${gw.url}/admin/keys`);
    expect(none.status).toBe(401);
    const wrong = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: 'Bearer sk-not-the-master' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  test('teams: create with a slug id, refuse duplicates and typos, update, list', async () => {
    const created = await admin(gw.url, 'POST', '/admin/teams', { name: 'Data Science', rpm: 100, models: ['free'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'data-science', name: 'Data Science', rpm: 100, tpm: null, models: ['free'], budget_period: 'total' });

    const duplicate = await admin(gw.url, 'POST', '/admin/teams', { name: 'Data  science!' });
    expect(duplicate.status).toBe(400);
    const typo = await admin(gw.url, 'POST', '/admin/teams', { name: 'Ops', rmp: 5 });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatchObject({ param: 'rmp', type: 'invalid_request_error' });
    const badLimit = await admin(gw.url, 'POST', '/admin/teams', { name: 'Ops', rpm: 0 });
    expect(badLimit.status).toBe(400);

    const patched = await admin(gw.url, 'PATCH', '/admin/teams/data-science', { tpm: 5000, budget_usd: 12.5, budget_period: 'month' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ rpm: 100, tpm: 5000, budget_usd: 12.5, budget_period: 'month', version: created.body.version + 1 });

    const list = await admin(gw.url, 'GET', '/admin/teams');
    expect(list.body.teams.map((t: { id: string }) => t.id)).toContain('data-science');
    expect((await admin(gw.url, 'GET', '/admin/teams/nope')).status).toBe(404);
  });

  test('keys: the secret is answered once and never listed', async () => {
    const created = await admin(gw.url, 'POST', '/admin/keys', { name: 'etl', team: 'Data Science', rpm: 10 });
    expect(created.status).toBe(201);
    const { id, key } = created.body;
    secrets.push(key);
    expect(key).toMatch(/^sk-konnect-[\w-]{43}$/);
    expect(created.body).toMatchObject({ name: 'etl', team: 'data-science', rpm: 10, revoked_at: null, hint: `sk-konnect-…${key.slice(-4)}` });
    expect(created.body).not.toHaveProperty('hash');

    const list = await admin(gw.url, 'GET', '/admin/keys');
    const one = await admin(gw.url, 'GET', `/admin/keys/${id}`);
    const byTeam = await admin(gw.url, 'GET', '/admin/keys?team=data-science');
    for (const answer of [list, one, byTeam]) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.body)).not.toContain(key);
      expect(JSON.stringify(answer.body)).not.toContain(key.slice(11, 30));
    }
    expect(list.body.keys.find((k: { id: string }) => k.id === id)).toMatchObject({ name: 'etl', spend_usd: 0 });
    expect(list.body.keys.every((k: object) => !('hash' in k) && !('key' in k))).toBe(true);
    expect(byTeam.body.keys.map((k: { id: string }) => k.id)).toEqual([id]);

    expect((await admin(gw.url, 'POST', '/admin/keys', { name: 'x', team: 'no-such-team' })).status).toBe(400);
    expect((await admin(gw.url, 'POST', '/admin/keys', { name: 'x', expires_at: 'tomorrow' })).status).toBe(400);
    expect((await admin(gw.url, 'PATCH', '/admin/keys/key_missing', { rpm: 1 })).status).toBe(404);
  });

  test('require_keys: no key and unknown keys get 401 in the OpenAI error shape', async () => {
    const none = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'free', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: { message: expect.any(String), type: 'authentication_error', param: null, code: 'unauthorized' } });

    const unknown = await chat(gw.client);
    expect(unknown).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'authentication_error' });
    const viaHeader = await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': 'sk-konnect-unknown' } });
    expect(viaHeader.status).toBe(401);
    // The auth stage runs before the body is read: an unauthenticated bad body is still a 401.
    const badBody = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(badBody.status).toBe(401);
  });

  test('a known key is served, billed to its key and team, with nothing of its secret in the ledger', async () => {
    const { id, key } = await createKey(gw.url, { name: 'app', team: 'data-science' });
    secrets.push(key);
    const viaBearer = await chat(clientFor(gw.url, key));
    expect(viaBearer.status).toBe(200);
    const viaApiKey = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ model: 'free', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(viaApiKey.status).toBe(200);
    const mine = ledger.records().filter((r) => r.key_id === id);
    expect(mine).toHaveLength(2);
    expect(mine[0]).toMatchObject({ key_id: id, team: 'data-science', status: 200 });
  });

  test('the master key may call /v1 as an unlimited operator', async () => {
    expect((await chat(clientFor(gw.url, MASTER), 'other')).status).toBe(200);
  });

  test('models: a key and its team may only use the groups both allow; /v1/models shows just those', async () => {
    await createTeam(gw.url, { name: 'Research', models: ['free', 'other'] });
    const narrow = await createKey(gw.url, { name: 'narrow', team: 'research', models: ['other', 'paid'] });
    const wide = await createKey(gw.url, { name: 'wide', team: 'research' });
    const loner = await createKey(gw.url, { name: 'loner' });
    secrets.push(narrow.key, wide.key, loner.key);

    const narrowClient = clientFor(gw.url, narrow.key);
    expect((await chat(narrowClient, 'other')).status).toBe(200);
    const refused = await chat(narrowClient, 'free');
    expect(refused).toMatchObject({ status: 403, code: 'forbidden', type: 'permission_error' });
    // Allowed by the key, not by its team.
    expect((await chat(narrowClient, 'paid')).status).toBe(403);
    expect((await chat(narrowClient, 'demo/mock-other')).status).toBe(403);

    const models = async (key: string) => (await clientFor(gw.url, key).models.list()).data.map((m) => m.id).sort();
    expect(await models(narrow.key)).toEqual(['other']);
    expect(await models(wide.key)).toEqual(['free', 'other']);
    expect(await models(loner.key)).toEqual(['demo/mock-free', 'demo/mock-other', 'demo/mock-paid', 'free', 'other', 'paid']);
    const embedding = await fetch(`${gw.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${narrow.key}` },
      body: JSON.stringify({ model: 'free', input: 'hello' }),
    });
    expect(embedding.status).toBe(403);
  });

  test('expiry: a key past expires_at gets 401, and a later date brings it back', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const expired = await createKey(gw.url, { name: 'expired', expires_at: past });
    secrets.push(expired.key);
    expect(await chat(clientFor(gw.url, expired.key))).toMatchObject({ status: 401, code: 'invalid_api_key', message: 'This API key has expired' });

    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await admin(gw.url, 'PATCH', `/admin/keys/${expired.id}`, { expires_at: future })).body.expires_at).toBe(future);
    expect((await chat(clientFor(gw.url, expired.key))).status).toBe(200);

    await admin(gw.url, 'PATCH', `/admin/keys/${expired.id}`, { expires_at: past });
    expect((await chat(clientFor(gw.url, expired.key))).status).toBe(401);
  });

  test('revocation: 401 at once, the record kept with revoked_at, and the team can go only after', async () => {
    await createTeam(gw.url, { name: 'Temp' });
    const { id, key } = await createKey(gw.url, { name: 'temp', team: 'temp' });
    secrets.push(key);
    expect((await chat(clientFor(gw.url, key))).status).toBe(200);
    expect((await admin(gw.url, 'DELETE', '/admin/teams/temp')).status).toBe(400);

    const revoked = await admin(gw.url, 'DELETE', `/admin/keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    expect(await chat(clientFor(gw.url, key))).toMatchObject({ status: 401, code: 'invalid_api_key', message: 'This API key has been revoked' });
    expect((await admin(gw.url, 'PATCH', `/admin/keys/${id}`, { rpm: 5 })).status).toBe(400);

    expect((await admin(gw.url, 'DELETE', '/admin/teams/temp')).body).toEqual({ id: 'temp', deleted: true });
    expect((await admin(gw.url, 'GET', '/admin/teams/temp')).status).toBe(404);
  });

  test('the audit log says who did what, and no secret reaches it, the logs or the ledger', async () => {
    const audit = await admin(gw.url, 'GET', '/admin/audit?limit=500');
    const actions = audit.body.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['team.create', 'team.update', 'team.delete', 'key.create', 'key.update', 'key.revoke']));
    expect(audit.body.entries[0]).toMatchObject({ actor: 'master', ip: '127.0.0.1', time: expect.any(String), target: expect.any(String) });
    expect((await admin(gw.url, 'GET', '/admin/audit?limit=0')).status).toBe(400);

    expect(secrets.length).toBeGreaterThan(5);
    expect(logs.length).toBeGreaterThan(10);
    const everything = [JSON.stringify(audit.body), logs.join('\n'), JSON.stringify(ledger.records())];
    for (const text of everything) {
      for (const secret of [...secrets, MASTER]) expect(text).not.toContain(secret);
    }
  });
});

describe('require_keys: false', () => {
  let gw: TestGateway;
  const ledger = createMemoryLedger();
  const open = uniquePrefix('access-keys-open');
  beforeAll(async () => {
    gw = await startGateway(accessConfig({ prefix: open, requireKeys: false }), { ledger });
  });
  afterAll(async () => {
    await gw.close();
    await dropPrefix(open);
  });

  test('no key or an unknown key is anonymous; a known key is identified, limited and billed', async () => {
    const anonymous = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'free', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('x-ratelimit-limit-requests')).toBeNull();
    // The openai SDK always sends some key.
    expect((await chat(gw.client)).status).toBe(200);
    expect((await chat(gw.client)).status).toBe(200);
    expect(ledger.records().map((r) => r.key_id)).toEqual([null, null, null]);

    const { id, key } = await createKey(gw.url, { name: 'known', rpm: 1 });
    const known = clientFor(gw.url, key);
    expect((await chat(known)).status).toBe(200);
    expect(await chat(known)).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(ledger.records().at(-1)).toMatchObject({ key_id: id });

    await admin(gw.url, 'DELETE', `/admin/keys/${id}`);
    expect((await chat(known)).status).toBe(401);
  });
});
