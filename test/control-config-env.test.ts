/**
 * `${VAR}` in config changes made through the admin API resolves only the variables
 * `auth.config_env` allows, never GATEWAY_MASTER_KEY (nor any variable holding the master key):
 * otherwise the master key, or any secret of the process, could be sent to a server of the
 * caller's choosing. The config file's own `${VAR}`s are not limited.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEnvAllowList, refusedReferences } from '../src/control/config-env.js';
import { createRedisConfigStore } from '../src/control/config-store.js';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { admin, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const ENV = {
  GATEWAY_MASTER_KEY: MASTER,
  OPENAI_API_KEY: 'sk-fake-openai',
  ADMIN_API_KEY: MASTER,
  HOME_SECRET: 'not-for-changes',
};
const DEFAULTS = ['OPENAI_*', 'ANTHROPIC_*', 'GEMINI_*', '*_API_KEY'];

describe('the allow-list', () => {
  test('globs, never the master key by name or by value', () => {
    const allows = createEnvAllowList(DEFAULTS, MASTER, ENV);
    expect(allows('OPENAI_API_KEY')).toBe(true);
    expect(allows('ANTHROPIC_BASE')).toBe(true);
    expect(allows('MY_API_KEY')).toBe(true);
    expect(allows('HOME_SECRET')).toBe(false);
    expect(allows('GATEWAY_MASTER_KEY')).toBe(false);
    expect(createEnvAllowList(['*'], MASTER, ENV)('GATEWAY_MASTER_KEY')).toBe(false);
    // Matches `*_API_KEY`, but holds the master key.
    expect(allows('ADMIN_API_KEY')).toBe(false);
    expect(createEnvAllowList(['A?C'], '', {})('ABC')).toBe(true);
    expect(createEnvAllowList(['A?C'], '', {})('ABBC')).toBe(false);
  });

  test('finds every reference with its key path', () => {
    const allows = createEnvAllowList(DEFAULTS, MASTER, ENV);
    const entry = { api_key: '${GATEWAY_MASTER_KEY}', headers: { 'x-a': 'Bearer ${HOME_SECRET:-x} ${OPENAI_API_KEY}' }, list: ['${NOPE}'] };
    expect(refusedReferences(entry, allows, '/providers/x')).toEqual([
      { path: '/providers/x/api_key', name: 'GATEWAY_MASTER_KEY' },
      { path: '/providers/x/headers/x-a', name: 'HOME_SECRET' },
      { path: '/providers/x/list/0', name: 'NOPE' },
    ]);
  });
});

describe('config changes through the admin API', () => {
  let fake: FakeOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const seed = {
      auth: { master_key: MASTER },
      // The file's own reference, to a variable outside the allow-list: resolved at load as ever.
      providers: { filed: { type: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: '${FILE_ONLY_KEY}' } },
      models: [{ name: 'filed', deployments: [{ provider: 'filed', model: 'gpt-4o-mini' }] }],
      prompts: { dir: '/nonexistent-prompts-dir' },
    };
    gw = await startGateway(seed, { env: ENV }, { FILE_ONLY_KEY: 'sk-fake-openai' });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  test('${GATEWAY_MASTER_KEY} is a 400 naming it, nothing is stored, and the fake receives nothing', async () => {
    const put = await admin(gw.url, 'PUT', '/admin/config/providers/x', { type: 'openai', api_key: '${GATEWAY_MASTER_KEY}', base_url: `${fake.url}/v1` });
    expect(put.status).toBe(400);
    expect(put.body.error.message).toContain('GATEWAY_MASTER_KEY');
    expect(put.body.error.param).toBe('/providers/x/api_key');
    // The provider does not exist, so nothing can route to it.
    const model = await admin(gw.url, 'PUT', '/admin/config/models/leak', { deployments: [{ provider: 'x', model: 'gpt-4o-mini' }] });
    expect(model.status).toBe(400);
    expect((await admin(gw.url, 'GET', '/admin/config')).body.overlay.providers).toEqual({});
    const chat = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'leak', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(chat.status).toBe(404);
    expect(fake.requests).toHaveLength(0);
  });

  test('a default, a header, another name for the master key, a variable off the list: each refused by name', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['providers/a', { type: 'openai', api_key: '${GATEWAY_MASTER_KEY:-none}', base_url: `${fake.url}/v1` }, 'GATEWAY_MASTER_KEY'],
      ['providers/b', { type: 'openai', api_key: 'k', base_url: `${fake.url}/v1`, headers: { 'x-leak': '${HOME_SECRET}' } }, 'HOME_SECRET'],
      ['providers/c', { type: 'openai', api_key: '${ADMIN_API_KEY}', base_url: `${fake.url}/v1` }, 'ADMIN_API_KEY'],
      ['services/s', { prefix: '/s', targets: [{ url: `${fake.url}/` }], request_headers: { set: { authorization: 'Bearer ${GATEWAY_MASTER_KEY}' } } }, 'GATEWAY_MASTER_KEY'],
    ];
    for (const [path, body, name] of cases) {
      const res = await admin(gw.url, 'PUT', `/admin/config/${path}`, body);
      expect(res.status, path).toBe(400);
      expect(res.body.error.message, path).toContain(`\${${name}}`);
    }
    expect(fake.requests).toHaveLength(0);
    expect((await admin(gw.url, 'GET', '/admin/config')).body.version).toBe(0);
  });

  test('a variable the list allows resolves; the file-defined provider keeps working after a change', async () => {
    const put = await admin(gw.url, 'PUT', '/admin/config/providers/ok', { type: 'openai', api_key: '${OPENAI_API_KEY}', base_url: `${fake.url}/v1` });
    expect(put.status).toBe(201);
    expect((await admin(gw.url, 'PUT', '/admin/config/models/ok', { deployments: [{ provider: 'ok', model: 'gpt-4o-mini' }] })).status).toBe(201);
    for (const model of ['ok', 'filed']) {
      const answer = await gw.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.choices[0]!.message.content).toBeTruthy();
      expect(fake.lastChatRequest().headers.authorization).toBe('Bearer sk-fake-openai');
    }
  });
});

describe('an overlay written to Redis past the API', () => {
  const prefix = uniquePrefix('control-config-env');
  let redis: Redis;
  let gw: TestGateway | undefined;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await gw?.close();
    await redis.quit();
    await dropPrefix(prefix);
  });

  test('is not applied: the instance keeps the file and reports why', async () => {
    const fake = await startFakeOpenAI({ apiKey: null });
    try {
      const store = createRedisConfigStore(redis, prefix);
      const v1 = await store.commit(0, 'providers/evil', { type: 'openai', api_key: '${GATEWAY_MASTER_KEY}', base_url: `${fake.url}/v1` });
      await store.commit(v1!, 'models/evil', { deployments: [{ provider: 'evil', model: 'gpt-4o-mini' }] });
      gw = await startGateway(
        { store: { redis_url: REDIS_URL, key_prefix: prefix }, auth: { master_key: MASTER }, providers: { demo: { type: 'mock' } }, prompts: { dir: '/nonexistent-prompts-dir' } },
        { env: ENV, configCachePath: null },
      );
      const health = (await (await fetch(`${gw.url}/health`)).json()) as { config: { version: number; error: { faults: string[] } | null } };
      expect(health.config.version).toBe(0);
      expect(health.config.error?.faults.join('\n')).toContain('/providers/evil/api_key: ${GATEWAY_MASTER_KEY}');
      const chat = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'evil', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(chat.status).toBe(404);
      expect(fake.requests).toHaveLength(0);
    } finally {
      await fake.close();
    }
  });
});
