/**
 * `GET /admin/providers/:name/models` and `POST /admin/providers/:name/check` against the fake
 * upstreams: what each provider's SDK sends (key, base URL, a one-token probe, no retries), what
 * the operator reads back (the provider's own message and status), and the 404 / 409 answers.
 * The fakes answer no model listing, so each listing test scripts one with `enqueue`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProvider } from '../src/admin-providers/provider-calls.js';
import { parseConfig } from '../src/config/load-config.js';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { sendJson, type RecordedRequest } from './fakes/fake-server.js';
import { sendGoogleError, startFakeGemini, type FakeGemini } from './fakes/gemini.js';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const MASTER = 'sk-master-admin-providers';
const OPENAI_KEY = 'sk-fake-openai';

let openai: FakeOpenAI;
let compatible: FakeOpenAI;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let gw: TestGateway;

async function admin(method: string, path: string, body?: unknown, key: string | null = MASTER): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A listing handler for the next request to a fake, recording what it was sent. */
function listing(seen: RecordedRequest[], answer: (req: RecordedRequest, res: ServerResponse) => void) {
  return (req: RecordedRequest, res: ServerResponse) => {
    seen.push(req);
    answer(req, res);
  };
}

beforeAll(async () => {
  [openai, compatible, anthropic, gemini] = await Promise.all([
    startFakeOpenAI(),
    startFakeOpenAI({ apiKey: null }),
    startFakeAnthropic({ apiKey: 'sk-ant-fake' }),
    startFakeGemini({ apiKey: 'gm-fake' }),
  ]);
  const raw = {
    auth: { master_key: MASTER },
    providers: {
      openai: { type: 'openai', api_key: OPENAI_KEY, base_url: `${openai.url}/v1`, headers: { 'openai-organization': 'org-from-config' } },
      wrongkey: { type: 'openai', api_key: 'sk-wrong', base_url: `${openai.url}/v1` },
      local: { type: 'openai-compatible', base_url: `${compatible.url}/v1` },
      anthropic: { type: 'anthropic', api_key: 'sk-ant-fake', base_url: anthropic.url },
      gemini: { type: 'gemini', api_key: 'gm-fake', base_url: `${gemini.url}/` },
      demo: { type: 'mock' },
      // Nothing listens on port 9.
      down: { type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1' },
      // Off: its variable is unset in the gateway's environment (env: {} below).
      eu: { type: 'anthropic', api_key: '${ANTHROPIC_EU_KEY:-}', base_url: anthropic.url },
      bare: { type: 'openai' },
      idle: { type: 'openai-compatible', base_url: `${compatible.url}/v1` },
    },
    models: [
      { name: 'gpt', deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'openai', model: 'gpt-typo' }] },
      { name: 'wrong', deployments: [{ provider: 'wrongkey', model: 'gpt-4o-mini' }] },
      { name: 'llama', deployments: [{ provider: 'local', model: 'llama3' }, { provider: 'down', model: 'llama3' }] },
      { name: 'claude', deployments: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest' }, { provider: 'eu', model: 'claude-3-5-haiku-latest' }] },
      { name: 'flash', deployments: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] },
      { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }, { provider: 'demo', model: 'mock-2' }] },
    ],
  };
  // A config file, so a 409 can name the variable the file's api_key reads.
  const file = join(mkdtempSync(join(tmpdir(), 'konnect-admin-providers-')), 'gateway.json');
  writeFileSync(file, JSON.stringify(raw));
  gw = await startGateway(raw, { configPath: file, env: {} }, {});
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([openai?.close(), compatible?.close(), anthropic?.close(), gemini?.close()]);
});

describe('GET /admin/providers/:name/models', () => {
  it('needs the master key before it says whether a provider exists', async () => {
    expect((await admin('GET', '/admin/providers/openai/models', undefined, null)).status).toBe(401);
    expect((await admin('GET', '/admin/providers/nope/models', undefined, 'sk-not-master')).status).toBe(401);
    expect((await admin('POST', '/admin/providers/nope/check', {}, null)).status).toBe(401);
  });

  it('openai: the SDK lists what the key reaches, with the config key, base URL and headers', async () => {
    const seen: RecordedRequest[] = [];
    openai.enqueue(
      listing(seen, (_req, res) =>
        sendJson(res, 200, {
          object: 'list',
          data: [
            { id: 'gpt-4o-mini', object: 'model', created: 1_721_172_741, owned_by: 'system' },
            { id: 'o3-mini', object: 'model', created: 1_737_146_383, owned_by: 'system' },
          ],
        }),
      ),
    );
    const { status, body } = await admin('GET', '/admin/providers/openai/models');
    expect(status).toBe(200);
    expect(body).toEqual({
      provider: 'openai',
      type: 'openai',
      models: [
        { id: 'gpt-4o-mini', created: '2024-07-16T23:32:21.000Z', owned_by: 'system' },
        { id: 'o3-mini', created: new Date(1_737_146_383_000).toISOString(), owned_by: 'system' },
      ],
      configured_not_listed: ['gpt-typo'],
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/models' });
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(seen[0]!.headers['openai-organization']).toBe('org-from-config');
  });

  it('openai-compatible: the same SDK call against the server, no key needed', async () => {
    const seen: RecordedRequest[] = [];
    compatible.enqueue(listing(seen, (_req, res) => sendJson(res, 200, { object: 'list', data: [{ id: 'llama3', object: 'model', created: 0, owned_by: 'library' }] })));
    const { status, body } = await admin('GET', '/admin/providers/local/models');
    expect(status).toBe(200);
    expect(body.models.map((m: { id: string }) => m.id)).toEqual(['llama3']);
    expect(body.configured_not_listed).toEqual([]);
    expect(seen[0]!.url).toBe('/v1/models');
  });

  it('anthropic: the SDK follows the pages (after_id) and sends the key and a version', async () => {
    const seen: RecordedRequest[] = [];
    const page = (data: Array<{ id: string; display_name: string }>, hasMore: boolean) =>
      listing(seen, (_req, res) =>
        sendJson(res, 200, {
          data: data.map((m) => ({ type: 'model', created_at: '2024-10-22T00:00:00Z', ...m })),
          has_more: hasMore,
          first_id: data[0]?.id ?? null,
          last_id: data.at(-1)?.id ?? null,
        }),
      );
    anthropic.enqueue(page([{ id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5' }], true));
    anthropic.enqueue(page([{ id: 'claude-3-5-haiku-latest', display_name: 'Claude Haiku 3.5' }], false));
    const { status, body } = await admin('GET', '/admin/providers/anthropic/models');
    expect(status).toBe(200);
    expect(body.models).toEqual([
      { id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created: '2024-10-22T00:00:00Z' },
      { id: 'claude-3-5-haiku-latest', display_name: 'Claude Haiku 3.5', created: '2024-10-22T00:00:00Z' },
    ]);
    expect(body.configured_not_listed).toEqual([]);
    expect(seen.map((r) => new URL(r.url, 'http://x').pathname)).toEqual(['/v1/models', '/v1/models']);
    expect(new URL(seen[1]!.url, 'http://x').searchParams.get('after_id')).toBe('claude-sonnet-4-5');
    const auth = seen[0]!.headers.authorization ?? `Bearer ${String(seen[0]!.headers['x-api-key'])}`;
    expect(auth).toBe('Bearer sk-ant-fake');
    expect(seen[0]!.headers['anthropic-version']).toBeTruthy();
  });

  it('gemini: GET /v1beta/models with x-goog-api-key, page by page, ids without models/', async () => {
    const seen: RecordedRequest[] = [];
    gemini.enqueue(
      listing(seen, (_req, res) =>
        sendJson(res, 200, {
          models: [{ name: 'models/gemini-2.0-flash', displayName: 'Gemini 2.0 Flash', supportedGenerationMethods: ['generateContent', 'countTokens'] }],
          nextPageToken: 'page-2',
        }),
      ),
    );
    gemini.enqueue(listing(seen, (_req, res) => sendJson(res, 200, { models: [{ name: 'models/text-embedding-004', supportedGenerationMethods: ['embedContent'] }] })));
    const { status, body } = await admin('GET', '/admin/providers/gemini/models');
    expect(status).toBe(200);
    expect(body.models).toEqual([
      { id: 'gemini-2.0-flash', display_name: 'Gemini 2.0 Flash', methods: ['generateContent', 'countTokens'] },
      { id: 'text-embedding-004', methods: ['embedContent'] },
    ]);
    expect(body.configured_not_listed).toEqual([]);
    // The trailing slash of the configured base URL does not double.
    expect(seen.map((r) => new URL(r.url, 'http://x').pathname)).toEqual(['/v1beta/models', '/v1beta/models']);
    expect(new URL(seen[1]!.url, 'http://x').searchParams.get('pageToken')).toBe('page-2');
    expect(seen[0]!.headers['x-goog-api-key']).toBe('gm-fake');
  });

  it('mock: its configured models, no network', async () => {
    const { status, body } = await admin('GET', '/admin/providers/demo/models');
    expect(status).toBe(200);
    expect(body).toEqual({ provider: 'demo', type: 'mock', models: [{ id: 'mock-1' }, { id: 'mock-2' }], configured_not_listed: [] });
  });

  it('a provider that refuses the key: 502 with the status and the provider’s own message', async () => {
    openai.enqueueError(401, { message: 'Incorrect API key provided: sk-wr***ng.' });
    const before = openai.requests.length;
    const { status, body } = await admin('GET', '/admin/providers/wrongkey/models');
    expect(status).toBe(502);
    expect(body.error.message).toBe("listing the models of provider 'wrongkey' failed: answered 401: Incorrect API key provided: sk-wr***ng.");
    expect(openai.requests.length - before).toBe(1);
  });

  it('gemini errors and an unreachable server say what happened', async () => {
    // As the real API answers a bad key (the fake's `fail` only scripts generate routes).
    gemini.enqueue((_req, res) => sendGoogleError(res, 400, 'API key not valid. Please pass a valid API key.'));
    const refused = await admin('GET', '/admin/providers/gemini/models');
    expect(refused.status).toBe(502);
    expect(refused.body.error.message).toContain('answered 400: API key not valid. Please pass a valid API key.');
    const down = await admin('GET', '/admin/providers/down/models');
    expect(down.status).toBe(502);
    expect(down.body.error.message).toMatch(/^listing the models of provider 'down' failed: .*(ECONNREFUSED|Connection error)/);
  });

  it('an unknown provider is a 404, whatever its name', async () => {
    for (const name of ['nope', 'constructor', '__proto__', 'toString']) {
      const { status, body } = await admin('GET', `/admin/providers/${name}/models`);
      expect(status, name).toBe(404);
      expect(body.error.code).toBe('not_found');
    }
  });

  it('a provider off for want of a key is a 409 naming the variable its config reads', async () => {
    const { status, body } = await admin('GET', '/admin/providers/eu/models');
    expect(status).toBe(409);
    expect(body.error).toMatchObject({ code: 'provider_disabled', param: 'name' });
    expect(body.error.message).toContain('${ANTHROPIC_EU_KEY}');
    expect(body.error.message).toContain('Set ANTHROPIC_EU_KEY');
    // No variable in the config: the conventional one.
    const bare = await admin('POST', '/admin/providers/bare/check', {});
    expect(bare.status).toBe(409);
    expect(bare.body.error.message).toContain('OPENAI_API_KEY');
  });

  it('a provider added through the admin API without a key names the variable of its stored entry', async () => {
    const put = await admin('PUT', '/admin/config/providers/gemini-eu', { type: 'gemini', api_key: '${GEMINI_EU_KEY:-}', base_url: gemini.url });
    expect(put.status).toBe(201);
    const { status, body } = await admin('POST', '/admin/providers/gemini-eu/check', { model: 'gemini-2.0-flash' });
    expect(status).toBe(409);
    expect(body.error.message).toContain('Set GEMINI_EU_KEY');
  });
});

describe('POST /admin/providers/:name/check', () => {
  it('openai: one call with a one-token answer to the first deployment’s model', async () => {
    const before = openai.chatBodies().length;
    const { status, body } = await admin('POST', '/admin/providers/openai/check', {});
    expect(status).toBe(200);
    expect(body).toMatchObject({ provider: 'openai', type: 'openai', ok: true, model: 'gpt-4o-mini' });
    expect(body.latency_ms).toBeTypeOf('number');
    expect(openai.chatBodies().length - before).toBe(1);
    expect(openai.lastChatBody()).toMatchObject({ model: 'gpt-4o-mini', max_completion_tokens: 1 });
    expect(openai.lastChatRequest().headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it('a body is optional; a model in it is the one checked', async () => {
    const res = await fetch(`${gw.url}/admin/providers/openai/check`, { method: 'POST', headers: { authorization: `Bearer ${MASTER}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, model: 'gpt-4o-mini' });
    openai.enqueueChat({ model: 'gpt-4.1-2025-04-14' });
    const { body } = await admin('POST', '/admin/providers/openai/check', { model: 'gpt-4.1' });
    expect(body).toMatchObject({ ok: true, model: 'gpt-4.1', upstream_model: 'gpt-4.1-2025-04-14' });
    expect(openai.lastChatBody().model).toBe('gpt-4.1');
  });

  it('openai-compatible sends max_tokens: 1', async () => {
    const { body } = await admin('POST', '/admin/providers/local/check', {});
    expect(body).toMatchObject({ ok: true, model: 'llama3' });
    expect(compatible.lastChatBody()).toMatchObject({ model: 'llama3', max_tokens: 1 });
  });

  it('anthropic and gemini: one-token probes through their SDKs', async () => {
    const claude = await admin('POST', '/admin/providers/anthropic/check', {});
    expect(claude.body).toMatchObject({ ok: true, model: 'claude-3-5-haiku-latest' });
    expect(anthropic.lastMessageBody()).toMatchObject({ model: 'claude-3-5-haiku-latest', max_tokens: 1 });

    const flash = await admin('POST', '/admin/providers/gemini/check', {});
    expect(flash.body).toMatchObject({ ok: true, model: 'gemini-2.0-flash' });
    const call = gemini.calls().at(-1)!;
    expect(call).toMatchObject({ model: 'models/gemini-2.0-flash', task: 'generateContent' });
    expect((call.body as { generationConfig?: unknown }).generationConfig).toEqual({ maxOutputTokens: 1 });
    expect(call.headers['x-goog-api-key']).toBe('gm-fake');
  });

  it('mock: answered by its adapter', async () => {
    const { status, body } = await admin('POST', '/admin/providers/demo/check', {});
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, model: 'mock-1' });
  });

  it('a refused key: ok false with the provider’s status and message, sent once (no SDK retries)', async () => {
    const before = openai.requests.length;
    const { status, body } = await admin('POST', '/admin/providers/wrongkey/check', {});
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, status: 401, kind: 'http', model: 'gpt-4o-mini' });
    expect(body.error).toMatch(/^Incorrect API key provided/);
    expect(openai.requests.length - before).toBe(1);

    openai.enqueueError(503, { message: 'The engine is currently overloaded, please try again later' });
    const overloaded = await admin('POST', '/admin/providers/openai/check', {});
    expect(overloaded.body).toMatchObject({ ok: false, status: 503, error: 'The engine is currently overloaded, please try again later' });
    expect(openai.requests.length - before).toBe(2);
  });

  it('an unknown model: the provider’s 404 and its words, for each SDK', async () => {
    anthropic.enqueueError(404, 'not_found_error', 'model: claude-nope');
    expect((await admin('POST', '/admin/providers/anthropic/check', { model: 'claude-nope' })).body).toMatchObject({
      ok: false,
      status: 404,
      error: 'model: claude-nope',
    });
    gemini.fail(404, 'models/gemini-nope is not found for API version v1beta, or is not supported for generateContent.');
    expect((await admin('POST', '/admin/providers/gemini/check', { model: 'gemini-nope' })).body).toMatchObject({
      ok: false,
      status: 404,
      error: 'models/gemini-nope is not found for API version v1beta, or is not supported for generateContent.',
    });
  });

  it('an unreachable server: ok false, no status, a network failure', async () => {
    const { status, body } = await admin('POST', '/admin/providers/down/check', {});
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, status: null, kind: 'network', model: 'llama3' });
    expect(body.error).toMatch(/ECONNREFUSED|Connection error/);
  });

  it('refuses a bad body, a bad Gemini model name, and a provider with nothing to check', async () => {
    expect((await admin('POST', '/admin/providers/openai/check', { model: 42 })).status).toBe(400);
    expect((await admin('POST', '/admin/providers/openai/check', { model: 'a b' })).status).toBe(400);
    expect((await admin('POST', '/admin/providers/openai/check', { model: 'x', max_tokens: 5 })).body.error.param).toBe('max_tokens');
    expect((await admin('POST', '/admin/providers/openai/check', '[1]')).status).toBe(400);
    expect((await admin('POST', '/admin/providers/gemini/check', { model: '../../admin?x=' })).status).toBe(400);
    const idle = await admin('POST', '/admin/providers/idle/check', {});
    expect(idle.status).toBe(400);
    expect(idle.body.error.message).toContain('no deployment uses provider');
  });

  it('a provider that never answers: ok false after the timeout', async () => {
    const config = parseConfig({ providers: { slow: { type: 'openai', api_key: OPENAI_KEY, base_url: `${openai.url}/v1` } } }, {});
    const closed = openai.enqueueStall();
    const outcome = await checkProvider(config.providers.slow!, 'gpt-4o-mini', undefined, { timeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, status: null, kind: 'timeout', error: 'no answer within 300 ms' });
    await closed; // the SDK hung up
  });
});

describe('start-up cost', () => {
  it('the admin-provider modules load no SDK at import time: only `await import()` on first use', () => {
    const files = ['../src/routes/admin-providers.ts', '../src/admin-providers/provider-calls.ts', '../src/admin-providers/sdk-errors.ts', '../src/admin-providers/key-variable.ts'];
    for (const file of files) {
      const source = readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
      const staticSdk = source.match(/^\s*import\s+(?!type\b)[^;]*?from\s+['"](openai|@anthropic-ai\/sdk|@google\/generative-ai)['"]/m);
      expect(staticSdk, file).toBeNull();
    }
  });
});
