/**
 * The control plane on one real Redis: three gateway instances with the same key prefix. A
 * change made through one instance is stored with a version, announced over pub/sub and
 * applied by the others; bad changes are refused with the path of every fault and change
 * nothing; an instance started (or restarted) later comes up on the newest config; keys,
 * limits, budgets and the ledger behave as one gateway across the three.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppDeps } from '../src/app.js';
import { configKeys } from '../src/control/config-store.js';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { admin, chat, clientFor, createKey, MASTER } from './helpers/access.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { chatStatus } from './helpers/http.js';

const prefix = uniquePrefix('control-cluster');
const cacheDir = mkdtempSync(join(tmpdir(), 'konnect-control-'));
const cachePath = join(cacheDir, 'overlay.json');
const LITERAL_KEY = 'sk-live-literal-secret-0123456789abcdef';
const PROPAGATION_MS = 3000;

const env = { UP_KEY: 'sk-fake-openai' };
const deps = (): AppDeps => ({ env, configCachePath: cachePath });

function clusterConfig(redisUrl = REDIS_URL) {
  return {
    store: { redis_url: redisUrl, key_prefix: prefix },
    auth: { master_key: MASTER, config_env: ['UP_*'] },
    providers: { demo: { type: 'mock' } },
    models: [
      { name: 'base', deployments: [{ provider: 'demo', model: 'mock-base' }] },
      { name: 'paid', deployments: [{ provider: 'demo', model: 'mock-paid', price: { input: 1000, output: 1000 } }] },
    ],
    prompts: { dir: '/nonexistent-prompts-dir' },
  };
}

let a: TestGateway;
let b: TestGateway;
let c: TestGateway;
const extra: TestGateway[] = [];

beforeAll(async () => {
  [a, b, c] = await Promise.all([startGateway(clusterConfig(), deps()), startGateway(clusterConfig(), deps()), startGateway(clusterConfig(), deps())]);
});
afterAll(async () => {
  await Promise.all([a, b, c, ...extra].map((gw) => gw?.close()));
  await dropPrefix(prefix);
  rmSync(cacheDir, { recursive: true, force: true });
});

/** The parts of `GET /health` these tests read. */
interface Health {
  status: string;
  store: { type: string; status: string };
  config: { source: string; version: number; store: string; error: unknown };
}

async function configVersion(gw: TestGateway): Promise<number> {
  return (await admin(gw.url, 'GET', '/admin/config')).body.version;
}

describe('changes reach every instance', () => {
  test('a model group added through one instance serves traffic on the others', async () => {
    expect(await chatStatus(b, 'added')).toBe(404);
    const put = await admin(a.url, 'PUT', '/admin/config/models/added', { strategy: 'priority', deployments: [{ provider: 'demo', model: 'mock-added' }] });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ section: 'models', name: 'added', before: null, after: { name: 'added', strategy: 'priority' } });
    // Applied on the instance that took it before it answered.
    expect(await chatStatus(a, 'added')).toBe(200);
    for (const gw of [b, c]) {
      await expect.poll(() => chatStatus(gw, 'added'), { timeout: PROPAGATION_MS, interval: 20 }).toBe(200);
      expect(await configVersion(gw)).toBe(put.body.version);
    }
    const models = (await (await fetch(`${c.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toContain('added');
    const health = (await (await fetch(`${b.url}/health`)).json()) as Health;
    expect(health.config).toMatchObject({ source: 'redis', version: put.body.version, error: null });
  });

  test('a bad change is refused with the path of every fault and changes nothing', async () => {
    const before = await configVersion(a);
    const bad = await admin(b.url, 'PUT', '/admin/config/models/broken', {
      strategy: 'random',
      deployments: [{ provider: 'nowhere', model: 'x' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.type).toBe('invalid_request_error');
    expect(bad.body.error.message).toContain('/models/broken/strategy');
    expect(bad.body.error.message).toContain('/models/broken/deployments/0/provider: unknown provider "nowhere"');

    // A provider still used by a group cannot go: 409 naming the groups.
    const refused = await admin(c.url, 'DELETE', '/admin/config/providers/demo');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('entry_in_use');
    expect(refused.body.error.message).toMatch(/^provider 'demo' is still used by model groups? 'base'/);

    // A service the router could not serve is refused like the file would be.
    const service = await admin(a.url, 'PUT', '/admin/config/services/odd', { prefix: '/v1/odd', targets: [{ url: 'ftp://x' }] });
    expect(service.status).toBe(400);
    expect(service.body.error.message).toMatch(/\/services\/odd\/prefix.*collides/);
    expect(service.body.error.message).toContain('/services/odd/targets/0/url');

    expect((await admin(a.url, 'DELETE', '/admin/config/models/never-was')).status).toBe(404);
    for (const gw of [a, b, c]) {
      expect(await configVersion(gw)).toBe(before);
      expect(await chatStatus(gw, 'base')).toBe(200);
      expect(await chatStatus(gw, 'broken')).toBe(404);
    }
  });

  test('an instance started, or restarted, later comes up on the newest config', async () => {
    await b.close();
    const put = await admin(a.url, 'PUT', '/admin/config/models/while-down', { deployments: [{ provider: 'demo', model: 'mock-late' }] });
    expect(put.status).toBe(201);
    b = await startGateway(clusterConfig(), deps());
    // No waiting: it loaded the stored config before it started listening.
    expect(await chatStatus(b, 'while-down')).toBe(200);
    expect(await configVersion(b)).toBe(put.body.version);
    const late = await startGateway(clusterConfig(), deps());
    extra.push(late);
    expect(await chatStatus(late, 'while-down')).toBe(200);
    expect(await chatStatus(late, 'added')).toBe(200);
  });

  test('a change whose announcement was missed is picked up by the version check', async () => {
    // Written the way a change is stored, but never published: as if every subscriber had been disconnected.
    const redis = new Redis(REDIS_URL);
    const keys = configKeys(prefix);
    await redis.multi().hset(keys.overlay, 'models/unannounced', JSON.stringify({ deployments: [{ provider: 'demo', model: 'mock-quiet' }] })).incr(keys.version).exec();
    await redis.quit();
    for (const gw of [a, b, c]) await expect.poll(() => chatStatus(gw, 'unannounced'), { timeout: PROPAGATION_MS, interval: 50 }).toBe(200);
  });

  test('a model group deleted through one instance is gone from all, the file entry included', async () => {
    const del = await admin(c.url, 'DELETE', '/admin/config/models/base');
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ before: { name: 'base' }, after: null });
    for (const gw of [a, b]) await expect.poll(() => chatStatus(gw, 'base'), { timeout: PROPAGATION_MS, interval: 20 }).toBe(404);
    const put = await admin(b.url, 'PUT', '/admin/config/models/base', { deployments: [{ provider: 'demo', model: 'mock-base' }] });
    expect(put.status).toBe(201);
    for (const gw of [a, c]) await expect.poll(() => chatStatus(gw, 'base'), { timeout: PROPAGATION_MS, interval: 20 }).toBe(200);
  });
});

describe('services at run time', () => {
  let one: FakeServer;
  let two: FakeServer;

  beforeAll(async () => {
    one = await startFakeServer((req, res) => sendJson(res, 200, { from: 'one', url: req.url }));
    two = await startFakeServer((req, res) => sendJson(res, 200, { from: 'two', url: req.url }));
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
  });

  async function served(gw: TestGateway, path: string): Promise<string> {
    const res = await fetch(`${gw.url}${path}`);
    if (res.status !== 200) {
      await res.arrayBuffer();
      return String(res.status);
    }
    const body = (await res.json()) as { from: string; url: string };
    return `${body.from} ${body.url}`;
  }

  test('a service added, changed and deleted through different instances', async () => {
    expect(await served(c, '/echo/x')).toBe('404');
    const added = await admin(a.url, 'PUT', '/admin/config/services/echo', { prefix: '/echo', targets: [{ url: one.url }] });
    expect(added.status).toBe(201);
    expect(await served(a, '/echo/x?q=1')).toBe('one /x?q=1');
    await expect.poll(() => served(c, '/echo/x'), { timeout: PROPAGATION_MS, interval: 20 }).toBe('one /x');

    const changed = await admin(b.url, 'PUT', '/admin/config/services/echo', { name: 'echo', prefix: '/echo', strip_prefix: false, targets: [{ url: two.url }] });
    expect(changed.status).toBe(200);
    expect(changed.body.before.targets[0].url).toBe(one.url);
    await expect.poll(() => served(a, '/echo/y'), { timeout: PROPAGATION_MS, interval: 20 }).toBe('two /echo/y');

    // A second service next to it, with a longer prefix under the first one's.
    expect((await admin(c.url, 'PUT', '/admin/config/services/deeper', { prefix: '/echo/deep', targets: [{ url: one.url }] })).status).toBe(201);
    await expect.poll(() => served(b, '/echo/deep/z'), { timeout: PROPAGATION_MS, interval: 20 }).toBe('one /z');
    expect(await served(b, '/echo/deeper')).toBe('two /echo/deeper');

    expect((await admin(c.url, 'DELETE', '/admin/config/services/echo')).status).toBe(200);
    await expect.poll(() => served(b, '/echo/y'), { timeout: PROPAGATION_MS, interval: 20 }).toBe('404');
    expect(await served(b, '/echo/deep/z')).toBe('one /z');
    expect((await admin(c.url, 'PUT', '/admin/config/services/echo', { prefix: '/echo', targets: [{ url: 'http://x' }], name: 'other' })).status).toBe(400);
  });
});

describe('providers at run time', () => {
  let first: FakeOpenAI;
  let second: FakeOpenAI;

  beforeAll(async () => {
    first = await startFakeOpenAI();
    second = await startFakeOpenAI();
  });
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
  });

  test('a provider added, then moved to another base URL, with its key from each instance environment', async () => {
    const provider = await admin(a.url, 'PUT', '/admin/config/providers/up', { type: 'openai', api_key: '${UP_KEY}', base_url: `${first.url}/v1` });
    expect(provider.status).toBe(201);
    expect(provider.body.after.api_key).toBe('****');
    expect((await admin(a.url, 'PUT', '/admin/config/models/remote', { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] })).status).toBe(201);
    await expect.poll(() => chatStatus(c, 'remote'), { timeout: PROPAGATION_MS, interval: 20 }).toBe(200);
    expect(first.chatBodies().length).toBeGreaterThan(0);
    expect(first.lastChatRequest().headers.authorization).toBe('Bearer sk-fake-openai');

    // A call still running on the old provider when it is replaced finishes there.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    first.enqueue(async (_req, res) => {
      await held;
      sendJson(res, 200, { id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'late' }, finish_reason: 'stop' }] });
    });
    const inFlight = clientFor(b.url, 'sk-anything').chat.completions.create({ model: 'remote', messages: [{ role: 'user', content: 'hold' }] });
    await expect.poll(() => first.requests.some((r) => (r.body as { messages?: Array<{ content: string }> })?.messages?.[0]?.content === 'hold')).toBe(true);

    const moved = await admin(b.url, 'PUT', '/admin/config/providers/up', { type: 'openai', api_key: '${UP_KEY}', base_url: `${second.url}/v1` });
    expect(moved.status).toBe(200);
    expect(moved.body.before.base_url).toBe(`${first.url}/v1`);
    const before = second.chatBodies().length;
    for (const gw of [a, b, c]) await expect.poll(() => chatStatus(gw, 'remote'), { timeout: PROPAGATION_MS, interval: 20 }).toBe(200);
    await expect.poll(async () => {
      await chatStatus(a, 'remote');
      return second.chatBodies().length - before;
    }, { timeout: PROPAGATION_MS, interval: 20 }).toBeGreaterThan(0);
    release();
    expect((await inFlight).choices[0]!.message.content).toBe('late');
  });

  test('secrets are masked in GET /admin/config and in the audit log', async () => {
    const put = await fetch(`${a.url}/admin/config/providers/literal?`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json', 'x-request-id': 'audit-literal-1' },
      body: JSON.stringify({ type: 'openai', api_key: LITERAL_KEY, base_url: 'https://user:hunter2pass@proxy.example/v1?api-key=qs-secret', headers: { 'x-proxy-token': 'tok-secret-value', 'x-team': 'blue' } }),
    });
    expect(put.status).toBe(201);
    const answer = await put.text();
    expect(answer).not.toContain(LITERAL_KEY);

    await expect.poll(async () => JSON.stringify((await admin(c.url, 'GET', '/admin/config')).body.overlay.providers), { timeout: PROPAGATION_MS }).toContain('literal');
    for (const gw of [a, c]) {
      const view = await admin(gw.url, 'GET', '/admin/config');
      const text = JSON.stringify(view.body);
      for (const secret of [LITERAL_KEY, 'hunter2pass', 'qs-secret', 'tok-secret-value', MASTER, 'sk-fake-openai']) expect(text).not.toContain(secret);
      expect(view.body.config.providers.literal).toMatchObject({ api_key: '****cdef', headers: { 'x-proxy-token': '****alue', 'x-team': '****' } });
      expect(view.body.config.providers.literal.base_url).toBe('https://****:****@proxy.example/v1?api-key=****');
      expect(view.body.config.auth.master_key).toBe('****');
      // The stored form keeps the reference, which is no secret.
      expect(view.body.overlay.providers.up.api_key).toBe('${UP_KEY}');
    }

    const audit = await admin(b.url, 'GET', '/admin/config/audit?limit=50');
    expect(audit.status).toBe(200);
    const text = JSON.stringify(audit.body);
    for (const secret of [LITERAL_KEY, 'hunter2pass', 'qs-secret', 'tok-secret-value']) expect(text).not.toContain(secret);
    const entry = audit.body.entries.find((e: { details: { request_id: string } }) => e.details.request_id === 'audit-literal-1');
    expect(entry).toMatchObject({ actor: 'master', action: 'config.providers.put', target: 'literal', details: { before: null, after: { api_key: '****cdef' } } });
    expect(entry.ip).toBeTruthy();
    expect(audit.body.entries.every((e: { action: string }) => e.action.startsWith('config.'))).toBe(true);
    // Every change so far is listed, newest first, and also in the admin audit log.
    const actions = audit.body.entries.map((e: { action: string; target: string }) => `${e.action} ${e.target}`);
    expect(actions).toEqual(expect.arrayContaining(['config.models.put added', 'config.models.delete base', 'config.services.delete echo', 'config.providers.put up']));
    const all = await admin(a.url, 'GET', '/admin/audit?limit=500');
    expect(all.body.entries.some((e: { action: string }) => e.action === 'config.providers.put')).toBe(true);
  });
});

describe('one gateway across three instances', () => {
  test('a key made on one works on the others, its rpm holds across all, and usage totals agree', async () => {
    const { id, key } = await createKey(a.url, { name: 'fleet', rpm: 5 });
    const gateways = [a, b, c];
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await chat(clientFor(gateways[i % 3]!.url, key), 'added'));
    const statuses = results.map((r) => r.status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect(new Set(results.slice(0, 3).map((r) => r.headers.get('x-gateway-provider')))).toEqual(new Set(['demo']));

    // Every call is a request on the ledger; the 7 refused ones are errors that never reached a
    // provider, so they carry no tokens. The ledger is written in batches: every instance
    // answers the same totals once they landed.
    const totals = async (gw: TestGateway) => {
      const res = await admin(gw.url, 'GET', `/admin/usage?group_by=key&from=${new Date(Date.now() - 3600_000).toISOString()}`);
      const row = res.body.rows.find((r: { key: string }) => r.key === id);
      return row ? `${row.requests} ${row.errors} ${row.total_tokens}` : 'none';
    };
    await expect.poll(() => totals(a), { timeout: PROPAGATION_MS }).toMatch(/^12 7 /);
    const expected = await totals(a);
    expect(await totals(b)).toBe(expected);
    expect(await totals(c)).toBe(expected);
  });

  test('a response cached through one instance is a hit on the others, for a group whose cache was set at run time', async () => {
    const put = await admin(c.url, 'PUT', '/admin/config/models/cached', { cache: { ttl_s: 60 }, deployments: [{ provider: 'demo', model: 'mock-cached' }] });
    expect(put.status).toBe(201);
    const ask = async (gw: TestGateway) => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'cached', temperature: 0, messages: [{ role: 'user', content: `cache me ${prefix}` }] }),
      });
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      return { status: res.status, cache: res.headers.get('x-gateway-cache'), text: body.choices[0]!.message.content };
    };
    await expect.poll(async () => (await ask(a)).status, { timeout: PROPAGATION_MS }).toBe(200);
    const first = await ask(b);
    expect(first.cache).toBe('hit');
    expect(await ask(c)).toEqual(first);
  });

  test('a budget spent through one instance is refused by the others', async () => {
    // Room for one call's reservation (its prompt and 5 output tokens at $0.001 a token), not two.
    const { key } = await createKey(b.url, { name: 'thrifty', budget_usd: 0.03 });
    const first = await chat(clientFor(a.url, key), 'paid', { max_tokens: 5 });
    expect(first.status).toBe(200);
    expect(first.cost).toBeGreaterThan(0.01);
    for (const gw of [b, c]) {
      await expect.poll(async () => (await chat(clientFor(gw.url, key), 'paid', { max_tokens: 5 })).code, { timeout: PROPAGATION_MS }).toBe('insufficient_quota');
    }
  });
});

describe('Redis unreachable at start', () => {
  test('an instance serves the last config it saw from its local cache, and says so in /health', async () => {
    // What the cluster runs now, as the others saw it.
    await expect.poll(async () => (await admin(a.url, 'GET', '/admin/config')).body.version).toBe(await configVersion(c));
    const lonely = await startGateway(clusterConfig('redis://127.0.0.1:1'), deps());
    extra.push(lonely);
    const health = (await (await fetch(`${lonely.url}/health`)).json()) as Health;
    expect(health.store).toEqual({ type: 'redis', status: 'down' });
    expect(health.config.source).toBe('cache');
    expect(await chatStatus(lonely, 'while-down')).toBe(200);
    expect(await chatStatus(lonely, 'base')).toBe(200);
    // Changes need the store.
    const refused = await admin(lonely.url, 'PUT', '/admin/config/models/nope', { deployments: [{ provider: 'demo', model: 'x' }] });
    expect(refused.status).toBe(503);
  });

  test('without a cache, from the file alone', async () => {
    const bare = await startGateway(clusterConfig('redis://127.0.0.1:1'), { env, configCachePath: null });
    extra.push(bare);
    const health = (await (await fetch(`${bare.url}/health`)).json()) as Health;
    expect(health).toMatchObject({ status: 'ok', store: { status: 'down' }, config: { source: 'file', version: 0 } });
    expect(await chatStatus(bare, 'base')).toBe(200);
    expect(await chatStatus(bare, 'added')).toBe(404);
  });
});
