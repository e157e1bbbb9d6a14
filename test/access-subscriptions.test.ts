/**
 * Subscription approval: the admin API (create, approve, revoke, list) and its effect on a
 * prompt API with `approval: required`, which only keys of a team with an approved
 * subscription may call. Also prompt permissions and limits on prompt calls.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { accessConfig, admin, createKey, createTeam, MASTER } from './helpers/access.js';
import { dropPrefix, uniquePrefix } from './helpers/redis.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const prefix = uniquePrefix('access-subscriptions');
let gw: TestGateway;
let dir: string;

const PROMPT = (name: string, approval: string) => `
name: ${name}
version: 1
description: a test prompt
model: free
input: { type: object, required: [text], properties: { text: { type: string } } }
messages:
  - { role: user, content: "Report on {{text}}" }
approval: ${approval}
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-prompts-'));
  await writeFile(join(dir, 'quarterly.yaml'), PROMPT('quarterly', 'required'));
  await writeFile(join(dir, 'open.yaml'), PROMPT('open', 'none'));
  gw = await startGateway(accessConfig({ prefix, promptsDir: dir }));
});
afterAll(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
  await dropPrefix(prefix);
});

async function callPrompt(name: string, key: string | undefined): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${gw.url}/prompts/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ text: 'sales' }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

test('the subscription API: create (once per team and API), list, approve, revoke', async () => {
  await createTeam(gw.url, { name: 'Finance' });
  const created = await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'finance', prompt: 'ledger-digest' });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ id: expect.stringMatching(/^sub_/), team: 'finance', kind: 'prompt', name: 'ledger-digest', status: 'pending' });
  const again = await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'finance', prompt: 'ledger-digest' });
  expect(again).toMatchObject({ status: 200, body: { id: created.body.id } });

  const service = await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'finance', service: 'billing' });
  expect(service.body).toMatchObject({ kind: 'service', name: 'billing', status: 'pending' });

  expect((await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'finance', prompt: 'a', service: 'b' })).status).toBe(400);
  expect((await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'finance' })).status).toBe(400);
  expect((await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'nobody', prompt: 'a' })).status).toBe(400);
  expect((await admin(gw.url, 'POST', '/admin/subscriptions/sub_missing/approve')).status).toBe(404);
  expect((await fetch(`${gw.url}/admin/subscriptions`)).status).toBe(401);

  const approved = await admin(gw.url, 'POST', `/admin/subscriptions/${created.body.id}/approve`);
  expect(approved.body.status).toBe('approved');
  const pending = await admin(gw.url, 'GET', '/admin/subscriptions?status=pending');
  expect(pending.body.subscriptions.map((s: { id: string }) => s.id)).toEqual([service.body.id]);
  const revoked = await admin(gw.url, 'POST', `/admin/subscriptions/${created.body.id}/revoke`);
  expect(revoked.body.status).toBe('revoked');
  const all = await admin(gw.url, 'GET', '/admin/subscriptions?team=finance');
  expect(all.body.subscriptions).toHaveLength(2);

  const audit = await admin(gw.url, 'GET', '/admin/audit');
  const actions = audit.body.entries.map((e: { action: string }) => e.action);
  expect(actions).toEqual(expect.arrayContaining(['subscription.create', 'subscription.approve', 'subscription.revoke']));
});

test('approval: required lets only keys of an approved team through, at once after approve and revoke', async () => {
  await createTeam(gw.url, { name: 'Sales' });
  await createTeam(gw.url, { name: 'Support' });
  const sales = await createKey(gw.url, { name: 'sales', team: 'sales' });
  const support = await createKey(gw.url, { name: 'support', team: 'support' });
  const teamless = await createKey(gw.url, { name: 'teamless' });

  expect(await callPrompt('quarterly', sales.key)).toEqual({ status: 403, code: 'forbidden' });
  const sub = await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'sales', prompt: 'quarterly' });
  expect(await callPrompt('quarterly', sales.key)).toEqual({ status: 403, code: 'forbidden' });

  await admin(gw.url, 'POST', `/admin/subscriptions/${sub.body.id}/approve`);
  expect((await callPrompt('quarterly', sales.key)).status).toBe(200);
  expect((await callPrompt('quarterly', support.key)).status).toBe(403);
  expect((await callPrompt('quarterly', teamless.key)).status).toBe(403);
  expect((await callPrompt('quarterly', MASTER)).status).toBe(200);
  expect((await callPrompt('open', support.key)).status).toBe(200);

  await admin(gw.url, 'POST', `/admin/subscriptions/${sub.body.id}/revoke`);
  expect((await callPrompt('quarterly', sales.key)).status).toBe(403);
  // Approving the same subscription again restores it.
  await admin(gw.url, 'POST', `/admin/subscriptions/${sub.body.id}/approve`);
  expect((await callPrompt('quarterly', sales.key)).status).toBe(200);
});

test('prompt calls need a key, respect prompt permissions and count against limits', async () => {
  expect(await callPrompt('open', undefined)).toEqual({ status: 401, code: 'unauthorized' });
  expect((await callPrompt('open', 'sk-konnect-unknown')).status).toBe(401);

  const narrow = await createKey(gw.url, { name: 'narrow', prompts: ['quarterly'] });
  expect(await callPrompt('open', narrow.key)).toEqual({ status: 403, code: 'forbidden' });

  const limited = await createKey(gw.url, { name: 'limited', rpm: 2 });
  expect((await callPrompt('open', limited.key)).status).toBe(200);
  expect((await callPrompt('open', limited.key)).status).toBe(200);
  expect(await callPrompt('open', limited.key)).toEqual({ status: 429, code: 'rate_limit_exceeded' });
});
