/**
 * `GET /openapi.json` follows `auth.require_keys` like the other prompt routes and describes only
 * the prompt APIs the caller may call: those its key's permissions allow, and those with
 * `approval: required` only while its team holds an approved subscription.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { accessConfig, admin, createKey, createTeam, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const PROMPT = (name: string, approval: string, version = 1) => `
name: ${name}
version: ${version}
model: free
input: { type: object, properties: { text: { type: string } } }
messages:
  - { role: user, content: "About {{text}}" }
approval: ${approval}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prompts-openapi-'));
  await writeFile(join(dir, 'open-v1.yaml'), PROMPT('open', 'none'));
  await writeFile(join(dir, 'open-v2.yaml'), PROMPT('open', 'none', 2));
  await writeFile(join(dir, 'other.yaml'), PROMPT('other', 'none'));
  await writeFile(join(dir, 'gated.yaml'), PROMPT('gated', 'required'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function paths(gw: TestGateway, key?: string): Promise<{ status: number; paths: string[]; code?: string }> {
  const res = await fetch(`${gw.url}/openapi.json`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const body = (await res.json()) as { paths?: Record<string, unknown>; error?: { code: string } };
  return { status: res.status, paths: Object.keys(body.paths ?? {}).sort(), code: body.error?.code };
}

describe('require_keys: true', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(accessConfig({ promptsDir: dir }));
  });
  afterAll(async () => {
    await gw?.close();
  });

  test('without a key, or with an unknown or revoked one: 401, as GET /prompts', async () => {
    expect(await paths(gw)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect((await fetch(`${gw.url}/prompts`)).status).toBe(401);
    expect((await paths(gw, 'sk-konnect-unknown')).status).toBe(401);
    const revoked = await createKey(gw.url, { name: 'revoked' });
    expect((await paths(gw, revoked.key)).status).toBe(200);
    await admin(gw.url, 'DELETE', `/admin/keys/${revoked.id}`);
    expect((await paths(gw, revoked.key)).status).toBe(401);
  });

  test("a key sees only the prompts its permissions allow, approval-gated ones once its team's subscription is approved", async () => {
    await createTeam(gw.url, { name: 'Analysts' });
    const narrow = await createKey(gw.url, { name: 'narrow', prompts: ['open', 'gated'] });
    const analyst = await createKey(gw.url, { name: 'analyst', team: 'analysts' });

    expect(await paths(gw, narrow.key)).toEqual({ status: 200, paths: ['/prompts', '/prompts/open', '/prompts/open@1'], code: undefined });
    expect((await paths(gw, analyst.key)).paths).toEqual(['/prompts', '/prompts/open', '/prompts/open@1', '/prompts/other']);

    const sub = await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'analysts', prompt: 'gated' });
    expect((await paths(gw, analyst.key)).paths).not.toContain('/prompts/gated');
    await admin(gw.url, 'POST', `/admin/subscriptions/${sub.body.id}/approve`);
    expect((await paths(gw, analyst.key)).paths).toEqual(['/prompts', '/prompts/gated', '/prompts/open', '/prompts/open@1', '/prompts/other']);
    await admin(gw.url, 'POST', `/admin/subscriptions/${sub.body.id}/revoke`);
    expect((await paths(gw, analyst.key)).paths).not.toContain('/prompts/gated');

    // The master key is the operator: it sees every prompt API.
    expect((await paths(gw, MASTER)).paths).toEqual(['/prompts', '/prompts/gated', '/prompts/open', '/prompts/open@1', '/prompts/other']);
  });
});

test('require_keys: false: anonymous callers get the document without the prompts they cannot call', async () => {
  const gw = await startGateway(accessConfig({ promptsDir: dir, requireKeys: false }));
  try {
    const doc = await paths(gw);
    expect(doc).toEqual({ status: 200, paths: ['/prompts', '/prompts/open', '/prompts/open@1', '/prompts/other'], code: undefined });
  } finally {
    await gw.close();
  }
});
