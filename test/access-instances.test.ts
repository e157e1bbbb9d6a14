/**
 * Two gateway instances on one Redis (same key prefix) behave as one: a limit holds exactly
 * across both, and a revocation or a permission change made through one is in force on the
 * other at once, though each instance caches the keys it has seen.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { countMessageTokens } from '../src/usage/count-tokens.js';
import { accessConfig, admin, chat, clientFor, createKey, createTeam } from './helpers/access.js';
import { dropPrefix, uniquePrefix } from './helpers/redis.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const prefix = uniquePrefix('access-instances');
let a: TestGateway;
let b: TestGateway;

beforeAll(async () => {
  a = await startGateway(accessConfig({ prefix }));
  b = await startGateway(accessConfig({ prefix }));
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await dropPrefix(prefix);
});

test('one key limit holds exactly across two instances under concurrent calls', async () => {
  const { key } = await createKey(a.url, { name: 'global', rpm: 7 });
  const clients = [clientFor(a.url, key), clientFor(b.url, key)];
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(clients[i % 2]!)));
  const statuses = results.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(7);
  expect(statuses.filter((s) => s === 429)).toHaveLength(13);
});

test("one team's tpm holds across instances and keys, corrected by the real usage", async () => {
  const maxTokens = 300;
  const estimate = countMessageTokens([{ role: 'user', content: 'Say something short.' }]) + maxTokens;
  const probe = await createKey(a.url, { name: 'probe' });
  const actual = (await chat(clientFor(a.url, probe.key), 'free', { max_tokens: maxTokens })).totalTokens!;
  // Room for one call's real usage plus one estimate.
  await createTeam(b.url, { name: 'Fleet', tpm: actual + estimate });
  const one = await createKey(a.url, { name: 'one', team: 'fleet' });
  const two = await createKey(b.url, { name: 'two', team: 'fleet' });
  const call = (url: string, key: string) => chat(clientFor(url, key), 'free', { max_tokens: maxTokens });
  expect((await call(a.url, one.key)).status).toBe(200);
  expect((await call(b.url, two.key)).status).toBe(200);
  const refused = await call(a.url, two.key);
  expect(refused).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
  expect(refused.message).toMatch(/team/);
  expect((await call(b.url, one.key)).status).toBe(429);
});

test('a key revoked through one instance is refused by the other at once', async () => {
  const { id, key } = await createKey(a.url, { name: 'soon-revoked' });
  // Both instances have now seen (and cached) the key.
  expect((await chat(clientFor(a.url, key))).status).toBe(200);
  expect((await chat(clientFor(b.url, key))).status).toBe(200);

  expect((await admin(a.url, 'DELETE', `/admin/keys/${id}`)).status).toBe(200);
  expect(await chat(clientFor(b.url, key))).toMatchObject({ status: 401, code: 'invalid_api_key' });
  expect((await chat(clientFor(a.url, key))).status).toBe(401);
  const models = await fetch(`${b.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  expect(models.status).toBe(401);
});

test('permission and limit changes made on one instance hold on the other at once', async () => {
  const { id, key } = await createKey(b.url, { name: 'changing', models: ['free'] });
  const onA = clientFor(a.url, key);
  expect((await chat(onA, 'free')).status).toBe(200);
  expect((await chat(onA, 'other')).status).toBe(403);

  await admin(b.url, 'PATCH', `/admin/keys/${id}`, { models: ['other'], rpm: 1 });
  expect((await chat(onA, 'free')).status).toBe(403);
  expect((await chat(onA, 'other')).status).toBe(200);
  expect((await chat(onA, 'other')).status).toBe(429);
  expect((await onA.models.list()).data.map((m) => m.id)).toEqual(['other']);
});

test('a team deleted and created again is not confused with its former self', async () => {
  await createTeam(a.url, { name: 'Phoenix', rpm: 100 });
  const { id, key } = await createKey(a.url, { name: 'bird', team: 'phoenix' });
  const onB = clientFor(b.url, key);
  expect((await chat(onB)).headers.get('x-ratelimit-limit-requests')).toBe('100');

  await admin(a.url, 'PATCH', `/admin/keys/${id}`, { team: null });
  expect((await admin(a.url, 'DELETE', '/admin/teams/phoenix')).status).toBe(200);
  await createTeam(a.url, { name: 'Phoenix', rpm: 2 });
  await admin(a.url, 'PATCH', `/admin/keys/${id}`, { team: 'phoenix' });
  const answer = await chat(onB);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('x-ratelimit-limit-requests')).toBe('2');
});
