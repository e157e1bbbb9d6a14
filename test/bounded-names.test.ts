/**
 * Names that come from callers and admins are bounded before they are stored, labelled or used
 * as keys: model names in requests (length, characters), what refused calls record, tags, header
 * sizes, which `<provider>/<model>` names a provider serves (`direct`), and the reserved names
 * `__proto__`, `constructor` and `prototype` everywhere something is named.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load-config.js';
import { ModelRegistry } from '../src/pipeline/model-registry.js';
import { createPromptCompiler } from '../src/prompts/compile-prompt.js';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { admin, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

type Ledger = ReturnType<typeof createMemoryLedger>;

const hello = [{ role: 'user', content: 'hi' }];

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; error?: { code: string; param: string | null; message: string } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, error: text ? (JSON.parse(text) as { error?: { code: string; param: string | null; message: string } }).error : undefined };
}

function faultsOf(raw: unknown): string[] {
  try {
    parseConfig(raw, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.faults;
    throw err;
  }
  return [];
}

describe('model names, tags and refusal records', () => {
  let gw: TestGateway;
  let keyed: TestGateway;
  let ledger: Ledger;
  let keyedLedger: Ledger;

  beforeAll(async () => {
    const promptsDir = mkdtempSync(join(tmpdir(), 'konnect-bounded-prompts-'));
    writeFileSync(join(promptsDir, 'greet.yaml'), 'name: greet\nmodel: m\nmessages:\n  - { role: user, content: "Hello" }\n');
    const config = {
      auth: { master_key: MASTER, require_keys: false },
      providers: { demo: { type: 'mock' } },
      models: [{ name: 'm', deployments: [{ provider: 'demo', model: 'mock-1' }] }],
      prompts: { dir: promptsDir },
    };
    ledger = createMemoryLedger();
    keyedLedger = createMemoryLedger();
    gw = await startGateway(config, { ledger });
    keyed = await startGateway({ ...config, auth: { master_key: MASTER, require_keys: true } }, { ledger: keyedLedger });
  });
  afterAll(async () => {
    await gw?.close();
    await keyed?.close();
  });

  const bad: Array<[string, string]> = [
    ['257 characters', 'x'.repeat(257)],
    ['100 KB', `fake/${'x'.repeat(100 * 1024)}`],
    ['a space', 'demo/two words'],
    ['a control character', 'demo/a\u0000b'],
    ['a line break', 'm\n'],
    ['a query string', 'demo/m?x=1'],
    ['a fragment', 'demo/m#x'],
    ['a quote', 'demo/we"ird'],
    ['non-ASCII letters', 'demo/模型'],
    ['a reserved name', '__proto__'],
    ['an empty name', ''],
  ];

  it.each(bad)('refuses a model name with %s: 400 param model, on chat and embeddings', async (_what, model) => {
    const chat = await post(`${gw.url}/v1/chat/completions`, { model, messages: hello });
    const embeddings = await post(`${gw.url}/v1/embeddings`, { model, input: 'x' });
    for (const answer of [chat, embeddings]) {
      expect(answer.status).toBe(400);
      expect(answer.error).toMatchObject({ code: 'invalid_request', param: 'model' });
      expect(answer.error!.message.length).toBeLessThan(300);
    }
  });

  it('takes a 256-character name of the allowed characters (404: not served)', async () => {
    const model = `nobody/${'a'.repeat(249)}`;
    expect(model).toHaveLength(256);
    expect((await post(`${gw.url}/v1/chat/completions`, { model, messages: hello })).status).toBe(404);
    expect((await post(`${gw.url}/v1/chat/completions`, { model: 'demo/org.x_1:2@3+4-5/model', messages: hello })).status).toBe(200);
  });

  it('records a refused call under `unknown` or a served group, never under the caller’s name', async () => {
    const id = (suffix: string) => `bounded-${suffix}`;
    await post(`${gw.url}/v1/chat/completions`, { model: 'x'.repeat(5000), messages: hello }, { 'x-request-id': id('long') });
    await post(`${gw.url}/v1/chat/completions`, { model: 'no-such-group', messages: hello }, { 'x-request-id': id('unknown') });
    await post(`${gw.url}/v1/embeddings`, { model: 'nobody/x', input: 'x' }, { 'x-request-id': id('embed') });
    await post(`${gw.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'tool', content: 'x' }] }, { 'x-request-id': id('served') });
    await post(`${gw.url}/v1/chat/completions`, { model: 42, messages: hello }, { 'x-request-id': id('number') });
    const byId = (rid: string) => ledger.records().filter((r) => r.client_request_id === rid);
    expect(byId(id('long'))).toMatchObject([{ status: 400, model: 'unknown' }]);
    expect(byId(id('unknown'))).toMatchObject([{ status: 404, model: 'unknown', error_code: 'model_not_found' }]);
    expect(byId(id('embed'))).toMatchObject([{ route: 'embeddings', status: 404, model: 'unknown' }]);
    expect(byId(id('served'))).toMatchObject([{ status: 400, model: 'm' }]);
    expect(byId(id('number'))).toMatchObject([{ status: 400, model: 'unknown' }]);
  });

  it('records refused prompt calls as prompt:unknown unless the prompt exists', async () => {
    const long = `/prompts/${'p'.repeat(15 * 1024)}`;
    const a = await post(`${keyed.url}${long}`, {}, { 'x-request-id': 'prompt-long' });
    const b = await post(`${keyed.url}/prompts/greet`, {}, { 'x-request-id': 'prompt-known' });
    const c = await post(`${keyed.url}/prompts/nope@3`, {}, { 'x-request-id': 'prompt-nope' });
    expect([a.status, b.status, c.status]).toEqual([401, 401, 401]);
    const byId = (rid: string) => keyedLedger.records().filter((r) => r.client_request_id === rid);
    expect(byId('prompt-long')).toMatchObject([{ route: 'prompt:unknown', status: 401 }]);
    expect(byId('prompt-known')).toMatchObject([{ route: 'prompt:greet', status: 401 }]);
    expect(byId('prompt-nope')).toMatchObject([{ route: 'prompt:unknown', status: 401 }]);
    // Anonymous and not refused: an unknown prompt is a 404 under prompt:unknown too.
    await post(`${gw.url}/prompts/missing-one`, {}, { 'x-request-id': 'prompt-404' });
    expect(ledger.records().filter((r) => r.client_request_id === 'prompt-404')).toMatchObject([{ route: 'prompt:unknown', status: 404 }]);
  });

  it('keeps only tags of letters, digits and ._:/@+=- (up to 64), never a reserved name', async () => {
    const tags = ['team-a', 'env:prod', 'a b', 'quote"d', 'x'.repeat(65), '__proto__', 'cost=1', 'line\tbreak', 'ü', 'k8s/ns@v1+2.3'].join(',');
    await post(`${gw.url}/v1/chat/completions`, { model: 'm', messages: hello }, { 'x-request-id': 'tagged', 'x-gateway-tags': tags });
    expect(ledger.records().find((r) => r.client_request_id === 'tagged')?.tags).toEqual(['team-a', 'env:prod', 'cost=1', 'k8s/ns@v1+2.3']);
  });

  it('answers 431 to a request line plus headers over 16 KB, before any route runs', async () => {
    const before = ledger.records().length;
    const body = JSON.stringify({ model: 'm', messages: hello });
    const { port } = new URL(gw.url);
    const answers: string[] = [];
    /** The status line of the answer to one request written by hand (fetch and node:http reset on an early answer). */
    const statusOf = (path: string, extra = '') =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('data', (part) => (text += part.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => {
          answers.push(text);
          resolve(text.split('\r\n')[0] ?? '');
        });
        socket.end(`POST ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`);
      });
    expect(await statusOf('/v1/chat/completions', `x-gateway-tags: ${'a'.repeat(17 * 1024)}\r\n`)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(await statusOf(`/prompts/${'p'.repeat(17 * 1024)}`)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    // In the gateway's error shape, like every other refusal.
    expect(JSON.parse(answers[0]!.split('\r\n\r\n')[1]!)).toMatchObject({ error: { type: 'invalid_request_error', code: 'headers_too_large' } });
    expect(await statusOf('/v1/chat/completions', `x-gateway-tags: ${'a'.repeat(8 * 1024)}\r\n`)).toBe('HTTP/1.1 200 OK');
    expect(ledger.records().length).toBe(before + 1);
  });
});

describe('direct <provider>/<model> access', () => {
  const providers = {
    oa: { type: 'openai', api_key: 'sk-x', base_url: 'http://127.0.0.1:9/v1' },
    an: { type: 'anthropic', api_key: 'sk-x', base_url: 'http://127.0.0.1:9' },
    ge: { type: 'gemini', api_key: 'sk-x', base_url: 'http://127.0.0.1:9' },
    local: { type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1' },
    demo: { type: 'mock' },
    listed: { type: 'openai', api_key: 'sk-x', base_url: 'http://127.0.0.1:9/v1', direct: ['gpt-4o*', 'o3'] },
    closed: { type: 'mock', direct: false },
  };
  const registry = new ModelRegistry(parseConfig({ providers, models: [] }, {}));

  it('is off by default for openai, anthropic and gemini; on for openai-compatible and mock', () => {
    expect(parseConfig({ providers }, {}).providers).toMatchObject({
      oa: { direct: false },
      an: { direct: false },
      ge: { direct: false },
      local: { direct: true },
      demo: { direct: true },
    });
    expect(registry.resolve('oa/gpt-4o')).toBeUndefined();
    expect(registry.resolve('an/claude-3-5-haiku-latest')).toBeUndefined();
    expect(registry.resolve('ge/gemini-2.0-flash')).toBeUndefined();
    expect(registry.resolve('local/llama3.2:1b')?.deployments[0]).toMatchObject({ provider: 'local', model: 'llama3.2:1b' });
    expect(registry.resolve('demo/anything')?.isDirect).toBe(true);
    expect(registry.resolve('closed/anything')).toBeUndefined();
  });

  it('takes exact ids and prefix patterns ending in *', () => {
    expect(registry.resolve('listed/gpt-4o')?.name).toBe('listed/gpt-4o');
    expect(registry.resolve('listed/gpt-4o-mini-2024-07-18')?.name).toBe('listed/gpt-4o-mini-2024-07-18');
    expect(registry.resolve('listed/o3')?.name).toBe('listed/o3');
    expect(registry.resolve('listed/o3-pro')).toBeUndefined();
    expect(registry.resolve('listed/gpt-4.1')).toBeUndefined();
  });

  it('refuses a bad setting at load, naming it', () => {
    expect(faultsOf({ providers: { oa: { type: 'openai', direct: 'yes' } } })).toEqual(['/providers/oa/direct: must be boolean,array']);
    expect(faultsOf({ providers: { oa: { type: 'openai', direct: ['gpt-*-mini'] } } })[0]).toMatch(/^\/providers\/oa\/direct\/0: must match pattern/);
  });

  it('answers 404 model_not_found for a direct name the provider does not allow', async () => {
    const gw = await startGateway({ providers: { closed: { type: 'mock', direct: false }, demo: { type: 'mock' } }, prompts: { dir: '/nonexistent-prompts-dir' } });
    try {
      expect(await post(`${gw.url}/v1/chat/completions`, { model: 'closed/mock-1', messages: hello })).toMatchObject({ status: 404, error: { code: 'model_not_found', param: 'model' } });
      expect((await post(`${gw.url}/v1/chat/completions`, { model: 'demo/mock-1', messages: hello })).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('reserved names', () => {
  const base = { providers: { demo: { type: 'mock' } } };
  const group = (name: string) => ({ name, deployments: [{ provider: 'demo', model: 'mock-1' }] });

  it('are faults in the config: model groups, providers, services, header maps', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      expect(faultsOf({ ...base, models: [group(name)] }).join('\n'), name).toMatch(/^\/models\/0\/name: must match pattern "\^\(\?!\(\?:__proto__\|constructor\|prototype\)\$\)"$/);
      expect(faultsOf({ ...base, services: [{ name, prefix: '/s', targets: [{ url: 'http://127.0.0.1:9' }] }] }).join('\n'), name).toMatch(/^\/services\/0\/name: must match pattern "\^\(\?!\(\?:__proto__\|constructor\|prototype\)\$\)"$/);
    }
    for (const name of ['constructor', 'prototype']) {
      expect(faultsOf({ providers: { demo: { type: 'mock' }, [name]: { type: 'mock' } } }).join('\n'), name).toMatch(/^\/providers: /m);
      expect(faultsOf({ providers: { oa: { type: 'openai', headers: { [name]: 'x' } } } }).join('\n'), name).toMatch(/^\/providers\/oa\/headers: /m);
    }
    expect(faultsOf({ ...base, models: [group('constructors'), group('my-prototype')] })).toEqual([]);
  });

  it('are faults in a prompt file', () => {
    const compiler = createPromptCompiler();
    for (const name of ['constructor', 'prototype', '__proto__']) {
      const result = compiler.compile({ name, model: 'm', messages: [{ role: 'user', content: 'x' }] }, { kind: 'store' });
      expect(result.ok, name).toBe(false);
    }
    expect(compiler.compile({ name: 'constructor-help', model: 'm', messages: [{ role: 'user', content: 'x' }] }, { kind: 'store' }).ok).toBe(true);
  });

  describe('over the admin API', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startGateway({
        auth: { master_key: MASTER, require_keys: true },
        ...base,
        models: [group('m')],
        prompts: { dir: '/nonexistent-prompts-dir' },
      });
    });
    afterAll(() => gw?.close());

    const audited = async () => ((await admin<{ entries: unknown[] }>(gw.url, 'GET', '/admin/audit?limit=500')).body.entries ?? []).length;

    it('PUT /admin/config/providers/__proto__ (and the other sections and names) is 400 and not audited', async () => {
      const before = await audited();
      for (const section of ['providers', 'models', 'services']) {
        for (const name of ['__proto__', 'constructor', 'prototype']) {
          const put = await admin(gw.url, 'PUT', `/admin/config/${section}/${name}`, section === 'providers' ? { type: 'mock' } : { deployments: [{ provider: 'demo', model: 'x' }] });
          expect(put.status, `${section}/${name}`).toBe(400);
          expect(put.body.error).toMatchObject({ code: 'invalid_request', param: 'name' });
          expect((await admin(gw.url, 'DELETE', `/admin/config/${section}/${name}`)).status).toBe(400);
        }
      }
      expect(await audited()).toBe(before);
      const view = await admin<{ config: { providers: Record<string, unknown> }; overlay: unknown }>(gw.url, 'GET', '/admin/config');
      expect(Object.keys(view.body.config.providers)).toEqual(['demo']);
      expect(view.body.overlay).toEqual({ models: {}, services: {}, providers: {} });
    });

    it('teams, keys and subscriptions refuse them', async () => {
      const before = await audited();
      expect((await admin(gw.url, 'POST', '/admin/teams', { id: 'constructor', name: 'Team' })).status).toBe(400);
      expect((await admin(gw.url, 'POST', '/admin/teams', { name: '__proto__' })).status).toBe(400);
      // An id derived from the name is held to the same rule.
      expect((await admin(gw.url, 'POST', '/admin/teams', { name: 'Constructor' })).status).toBe(400);
      expect((await admin(gw.url, 'POST', '/admin/keys', { name: 'prototype' })).status).toBe(400);
      expect((await admin(gw.url, 'POST', '/admin/keys', { name: 'k', team: 'constructor' })).status).toBe(400);
      expect((await admin(gw.url, 'POST', '/admin/subscriptions', { team: 'prototype', prompt: 'p' })).status).toBe(400);
      expect((await admin(gw.url, 'POST', '/admin/subscriptions', { team: 't', prompt: '__proto__' })).status).toBe(400);
      expect(await audited()).toBe(before);
      expect((await admin(gw.url, 'POST', '/admin/teams', { id: 'constructors', name: 'Constructor crew' })).status).toBe(201);
    });
  });
});
