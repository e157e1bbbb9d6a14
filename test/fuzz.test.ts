/**
 * Property tests over random and mutated requests (fast-check, fixed seed, bounded runs): for
 * chat, embeddings, prompt APIs, REST services and the admin API, whatever a client sends, the
 * gateway answers — never a 5xx, never a crash or a hang — every 4xx carries an OpenAI-shaped
 * error, and memory stays bounded.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { rawRequest, type RawResponse } from './helpers/raw-http.js';

const SEED = 20261207;
const RUNS = 120;

let gw: TestGateway;
let service: FakeServer;

beforeAll(async () => {
  service = await startFakeServer((req, res) => sendJson(res, 200, { path: req.url }));
  gw = await startGateway({
    auth: { master_key: MASTER },
    providers: { demo: { type: 'mock' } },
    models: [
      { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] },
      { name: 'guarded', guardrails: { pii: 'block', max_input_tokens: 2000 }, deployments: [{ provider: 'demo', model: 'mock-1' }] },
    ],
    prompts: { dir: 'prompts' },
    services: [{ name: 'users', prefix: '/api/users', strip_prefix: true, targets: [{ url: service.url }] }],
  });
});
afterAll(async () => {
  await gw.close();
  await service.close();
});

/** The gateway's answer is sane: no 5xx, and every 4xx is an OpenAI-shaped error body. */
function expectSane(res: RawResponse, label: string): void {
  expect(res.status, label).toBeLessThan(500);
  if (res.status >= 400 && res.status !== 404 && res.text.length > 0) {
    const body = res.json<{ error?: { message?: unknown; type?: unknown; code?: unknown } }>();
    expect(typeof body.error?.message, label).toBe('string');
    expect(typeof body.error?.type, label).toBe('string');
  }
  if (res.status === 404 && res.text.length > 0) expect(res.json<{ error?: unknown }>().error, label).toBeDefined();
}

const send = (method: string, path: string, body: string | undefined, headers: Record<string, string> = {}) =>
  rawRequest(gw.url, { method, path, headers: { 'content-type': 'application/json', ...headers }, body });

const validChat = { model: 'mock', messages: [{ role: 'user', content: 'hello' }] };

/** A valid body with one field replaced by something random, or removed. */
const mutatedChat = fc
  .tuple(
    fc.constantFrom('model', 'messages', 'stream', 'temperature', 'max_tokens', 'tools', 'tool_choice', 'response_format', 'n', 'stop', 'metadata', 'stream_options'),
    fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constant(undefined), fc.string({ maxLength: 300 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 })),
  )
  .map(([field, value]) => {
    const body: Record<string, unknown> = { ...validChat };
    if (value === undefined) delete body[field];
    else body[field] = value;
    return JSON.stringify(body);
  });

const randomBody = fc.oneof(
  fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 500 }),
  fc.constant('{"model":'),
  fc.constant(''),
  fc.constant(`{"model":"mock","messages":[{"role":"user","content":"x"}],"x":${'['.repeat(3000)}${']'.repeat(3000)}}`),
);

const headers = fc.record(
  {
    'x-request-id': fc.string({ maxLength: 200 }).filter((s) => !/[\r\n\0]/.test(s) && /^[\x20-\x7e]*$/.test(s)),
    'x-gateway-tags': fc.string({ maxLength: 300 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded'),
    'cache-control': fc.constantFrom('no-cache', 'max-age=0', 'nonsense'),
  },
  { requiredKeys: [] },
);

describe('fuzzed requests', () => {
  it('chat completions: mutated and random bodies, random headers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedChat, randomBody), headers, async (body, extra) => {
        expectSane(await send('POST', '/v1/chat/completions', body, extra), body.slice(0, 200));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('embeddings and the guarded group', async () => {
    const embeddings = fc
      .record({ model: fc.oneof(fc.constant('mock'), fc.string({ maxLength: 50 })), input: fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.string({ maxLength: 50 }), { maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] })
      .map((v) => JSON.stringify(v));
    const guarded = fc.string({ maxLength: 400 }).map((text) => JSON.stringify({ model: 'guarded', messages: [{ role: 'user', content: text }] }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(embeddings, randomBody), guarded, async (e, g) => {
        expectSane(await send('POST', '/v1/embeddings', e), e.slice(0, 200));
        expectSane(await send('POST', '/v1/chat/completions', g), g.slice(0, 200));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('prompt APIs and REST services: random paths and bodies', async () => {
    const segment = fc.oneof(fc.constantFrom('sentiment', 'summarize', 'sentiment@1', 'nope', '..', '%2e%2e', '%252e%252e', '', '%00'), fc.webSegment());
    const query = fc.oneof(fc.constant(''), fc.constantFrom('?stream=true', '?stream=1', '?x=%ZZ', '?a=1&a=2'));
    await fc.assert(
      fc.asyncProperty(segment, segment, query, randomBody, async (a, b, q, body) => {
        expectSane(await send('POST', `/prompts/${a}${q}`, body), `prompt ${a}${q}`);
        const res = await send('GET', `/api/users/${a}/${b}${q}`, undefined);
        expect(res.status, `service ${a}/${b}`).toBeLessThan(500);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('admin API: random bodies with and without the master key', async () => {
    const route = fc.constantFrom(
      ['POST', '/admin/keys'],
      ['POST', '/admin/teams'],
      ['PATCH', '/admin/keys/key_nope'],
      ['POST', '/admin/subscriptions'],
      ['PUT', '/admin/config/models/fuzz'],
      ['PUT', '/admin/config/services/fuzz'],
      ['GET', '/admin/usage?group_by=model,nope&from=yesterday'],
      ['GET', '/admin/logs?limit=-1'],
    );
    await fc.assert(
      fc.asyncProperty(route, randomBody, fc.boolean(), async ([method, path], body, authed) => {
        const res = await send(method!, path!, method === 'GET' ? undefined : body, authed ? { authorization: `Bearer ${MASTER}` } : {});
        expectSane(res, `${method} ${path} ${body.slice(0, 100)}`);
        if (!authed) expect(res.status, `${method} ${path} without the key`).toBe(401);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('keeps memory bounded through the whole run', async () => {
    const before = process.memoryUsage().rss;
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedChat, randomBody), async (body) => {
        expectSane(await send('POST', '/v1/chat/completions', body), body.slice(0, 200));
      }),
      { seed: SEED + 1, numRuns: RUNS * 2 },
    );
    // The test process hosts the gateway: hundreds of odd calls must not grow it by more than noise.
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
  });
});
