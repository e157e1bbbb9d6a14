/**
 * Publishing prompts through the admin API: on real Redis a prompt posted to one instance is
 * served by a second one, new versions and deletes follow; without Redis the prompt is written
 * to the prompts dir. Master key only; a bad prompt is a 400 naming the key.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { eventually } from './helpers/wait.js';

const MASTER = 'sk-master-prompts-admin';
const PREFIX = uniquePrefix('prompts-admin');
const admin = { authorization: `Bearer ${MASTER}` };

let redis: Redis;
let dirA: string;
let dirB: string;
let dirLocal: string;
let a: TestGateway;
let b: TestGateway;
let local: TestGateway;

const gatewayConfig = (dir: string, redisUrl?: string) => ({
  auth: { master_key: MASTER },
  ...(redisUrl ? { store: { redis_url: redisUrl, key_prefix: PREFIX } } : {}),
  providers: { demo: { type: 'mock' } },
  models: [{ name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] }],
  prompts: { dir },
});

const haiku = (version: number, extra: Record<string, unknown> = {}) => ({
  name: 'haiku',
  version,
  description: `Write a haiku (v${version})`,
  model: 'mock',
  input: { type: 'object', required: ['topic'], additionalProperties: false, properties: { topic: { type: 'string', maxLength: 100 } } },
  messages: [
    { role: 'system', content: `You write haiku, version ${version}.` },
    { role: 'user', content: 'Topic: {{topic}}' },
  ],
  ...extra,
});

async function send(gw: TestGateway, method: string, path: string, body?: unknown, headers: Record<string, string> = admin) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

const callPrompt = (gw: TestGateway, path: string, body: unknown) => send(gw, 'POST', path, body, {});

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const tempDir = () => mkdtemp(join(tmpdir(), 'konnect-prompts-admin-'));
  dirA = await tempDir();
  dirB = await tempDir();
  dirLocal = await tempDir();
  // A file prompt on instance A only: the shared store cannot retire it for every instance.
  await writeFile(join(dirA, 'local-only.yaml'), 'name: local-only\nmodel: mock\nmessages: [{ role: user, content: hi }]\n');
  a = await startGateway(gatewayConfig(dirA, REDIS_URL));
  b = await startGateway(gatewayConfig(dirB, REDIS_URL));
  // This instance's prompts dir does not exist yet: the first publish creates it.
  local = await startGateway(gatewayConfig(join(dirLocal, 'prompts')));
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), local?.close()]);
  await dropPrefix(PREFIX);
  await redis?.quit();
  await Promise.all([dirA, dirB, dirLocal].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('POST /admin/prompts', () => {
  it('needs the master key', async () => {
    expect((await send(a, 'POST', '/admin/prompts', haiku(1), {})).status).toBe(401);
    const wrong = await send(a, 'POST', '/admin/prompts', haiku(1), { authorization: 'Bearer sk-nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('invalid_api_key');
    expect((await send(a, 'DELETE', '/admin/prompts/haiku', undefined, {})).status).toBe(401);
  });

  it('rejects an invalid prompt with a 400 naming the key', async () => {
    const res = await send(a, 'POST', '/admin/prompts', { ...haiku(1), messages: [{ role: 'user', content: 'Topic: {{subject}}' }] });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param: 'messages[0].content' });
    expect(res.json.error.message).toContain('{{subject}}');

    const missing = await send(a, 'POST', '/admin/prompts', { name: 'x', messages: [] });
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toContain("must have required property 'model'");
    expect(missing.json.error.param).toBe('model');
    expect((await callPrompt(a, '/prompts/x', {})).status).toBe(404);
  });

  it('stores the prompt in Redis: served at once here and soon by a second instance', async () => {
    const res = await send(a, 'POST', '/admin/prompts', haiku(1));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: 'haiku', version: 1, versions: [1], route: '/prompts/haiku', stored: 'redis', approval: 'none' });

    const here = await callPrompt(a, '/prompts/haiku', { topic: 'autumn' });
    expect(here.status).toBe(200);
    expect(here.json).toMatchObject({ prompt: 'haiku', version: 1, output: expect.stringContaining('Topic: autumn') });

    await eventually(async () => {
      const there = await callPrompt(b, '/prompts/haiku', { topic: 'rain' });
      expect(there.status).toBe(200);
      expect(there.json).toMatchObject({ prompt: 'haiku', version: 1, provider: 'demo' });
    });
    const invalid = await callPrompt(b, '/prompts/haiku', { topic: 7 });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.param).toBe('topic');
    // Nothing was written to either instance's prompts dir.
    expect(await readdir(dirB)).toEqual([]);
  });

  it('publishes a new version; the older one stays reachable at @1 on every instance', async () => {
    const res = await send(b, 'POST', '/admin/prompts', haiku(2, { path: 'poetry/haiku' }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ version: 2, versions: [2, 1], route: '/prompts/poetry/haiku' });
    await eventually(async () => {
      const { json } = await send(a, 'GET', '/prompts');
      const haikuEntry = json.prompts.find((p: { name: string }) => p.name === 'haiku');
      expect(haikuEntry).toMatchObject({ version: 2, versions: [2, 1], route: '/prompts/poetry/haiku', description: 'Write a haiku (v2)' });
    });
    expect((await callPrompt(a, '/prompts/poetry/haiku', { topic: 'x' })).json.version).toBe(2);
    expect((await callPrompt(a, '/prompts/haiku@1', { topic: 'x' })).json.version).toBe(1);
    const doc = (await send(a, 'GET', '/openapi.json')).json;
    expect(doc.paths['/prompts/poetry/haiku'].post.operationId).toBe('prompt_haiku');
    expect(doc.paths['/prompts/poetry/haiku@1'].post.deprecated).toBe(true);
  });

  it('overrides a file prompt of the same name and version on that instance', async () => {
    const res = await send(a, 'POST', '/admin/prompts', { name: 'local-only', model: 'mock', description: 'from the store', messages: [{ role: 'user', content: 'hello' }] });
    expect(res.status).toBe(201);
    const { json } = await send(a, 'GET', '/admin/prompts');
    const entry = json.prompts.find((p: { name: string }) => p.name === 'local-only');
    expect(entry).toMatchObject({ description: 'from the store', sources: [{ version: 1, source: 'store' }] });
    expect((await send(a, 'DELETE', '/admin/prompts/local-only')).json).toEqual({ deleted: 'local-only', removed: 1 });
    // The file copy comes back into service.
    const after = (await send(a, 'GET', '/admin/prompts')).json.prompts.find((p: { name: string }) => p.name === 'local-only');
    expect(after.sources).toEqual([{ version: 1, source: join(dirA, 'local-only.yaml') }]);
  });
});

describe('DELETE /admin/prompts/<name>', () => {
  it('retires one version with @<version>, then the whole prompt, on every instance', async () => {
    const one = await send(b, 'DELETE', '/admin/prompts/haiku@1');
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ deleted: 'haiku@1', removed: 1 });
    await eventually(async () => {
      expect((await callPrompt(a, '/prompts/haiku@1', { topic: 'x' })).status).toBe(404);
      expect((await callPrompt(a, '/prompts/haiku', { topic: 'x' })).json.version).toBe(2);
    });

    const all = await send(a, 'DELETE', '/admin/prompts/haiku');
    expect(all.json).toEqual({ deleted: 'haiku', removed: 1 });
    expect((await callPrompt(a, '/prompts/poetry/haiku', { topic: 'x' })).status).toBe(404);
    await eventually(async () => {
      expect((await callPrompt(b, '/prompts/haiku', { topic: 'x' })).status).toBe(404);
      const { json } = await send(b, 'GET', '/prompts');
      expect(json.prompts.map((p: { name: string }) => p.name)).not.toContain('haiku');
    });
    expect(await redis.hkeys(`${PREFIX}{prompts}`)).toEqual([]);
  });

  it('404s a prompt that is not published, and refuses to retire a file prompt through Redis', async () => {
    const missing = await send(a, 'DELETE', '/admin/prompts/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ type: 'not_found_error', param: 'name' });
    const file = await send(a, 'DELETE', '/admin/prompts/local-only');
    expect(file.status).toBe(400);
    expect(file.json.error.message).toContain('remove the file');
    expect((await callPrompt(a, '/prompts/local-only', {})).status).toBe(200);
  });
});

describe('without Redis', () => {
  it('writes the prompt to the prompts dir and serves it; DELETE removes the file', async () => {
    const localDir = join(dirLocal, 'prompts');
    expect((await send(local, 'GET', '/prompts')).json).toEqual({ prompts: [] });
    const res = await send(local, 'POST', '/admin/prompts', haiku(1));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: 'haiku', stored: 'file' });
    expect(await readdir(localDir)).toEqual(['haiku.yaml']);
    const written = parseYaml(await readFile(join(localDir, 'haiku.yaml'), 'utf8'));
    expect(written).toMatchObject({ name: 'haiku', version: 1, model: 'mock', output: { type: 'text' } });
    expect((await callPrompt(local, '/prompts/haiku', { topic: 'snow' })).status).toBe(200);

    // A second version goes to its own file; re-publishing a version rewrites its file.
    expect((await send(local, 'POST', '/admin/prompts', haiku(2))).status).toBe(201);
    expect((await send(local, 'POST', '/admin/prompts', haiku(1, { description: 'edited' }))).status).toBe(201);
    expect((await readdir(localDir)).sort()).toEqual(['haiku.v2.yaml', 'haiku.yaml']);
    const listed = (await send(local, 'GET', '/prompts')).json.prompts.find((p: { name: string }) => p.name === 'haiku');
    expect(listed.versions).toEqual([2, 1]);
    expect(parseYaml(await readFile(join(localDir, 'haiku.yaml'), 'utf8')).description).toBe('edited');

    const gone = await send(local, 'DELETE', '/admin/prompts/haiku');
    expect(gone.json).toEqual({ deleted: 'haiku', removed: 2 });
    expect(await readdir(localDir)).toEqual([]);
    expect((await callPrompt(local, '/prompts/haiku', { topic: 'snow' })).status).toBe(404);
    expect((await send(local, 'DELETE', '/admin/prompts/haiku')).status).toBe(404);

    // The dir the publish created is watched from then on.
    await writeFile(join(localDir, 'by-hand.yaml'), 'name: by-hand\nmodel: mock\nmessages: [{ role: user, content: hi }]\n');
    await eventually(async () => expect((await callPrompt(local, '/prompts/by-hand', {})).status).toBe(200));
  });
});
