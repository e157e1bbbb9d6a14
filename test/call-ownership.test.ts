/**
 * One call, one owner: every call has the gateway's own id (the client's x-request-id only
 * correlates), settles itself once, and failures are classified at the edge. Driven over HTTP
 * with the official `openai` SDK and raw requests against wire-faithful fakes.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../src/usage/ledger.js';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { sendJson, sseEvents } from './fakes/fake-server.js';
import { answer, stall, startScriptedOpenAI, type ScriptedOpenAI } from './fakes/scripted-openai.js';
import { accessConfig, admin, clientFor, createKey, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { rawRequest } from './helpers/raw-http.js';
import { dropPrefix, uniquePrefix } from './helpers/redis.js';
import { eventually } from './helpers/wait.js';

const prefix = uniquePrefix('call-ownership');
afterAll(() => dropPrefix(prefix));

const hello = [{ role: 'user' as const, content: 'Say hello.' }];

/** A body whose `metadata` nests `depth` arrays: parses fine, overflows whatever walks it recursively. */
function nestedBody(model: string, depth: number): string {
  return `{"model":"${model}","messages":[{"role":"user","content":"hi"}],"metadata":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
}

/** A raw POST: a JSON value, or a body sent exactly as written. */
function post(gw: TestGateway, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return rawRequest(gw.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: text });
}

function recordsOf(gw: TestGateway): LedgerRecord[] {
  const records: LedgerRecord[] = [];
  gw.app.gateway.ledger.onRecord((record) => records.push(record));
  return records;
}

describe.each([{ store: 'redis' }, { store: 'memory' }])('the call id on $store', ({ store }) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ...accessConfig({ prefix: store === 'redis' ? `${prefix}${store}:` : undefined }), server: { log_level: 'silent' } });
  });
  afterAll(() => gw.close());

  it('charges two keys that send one x-request-id at once each their own cost', async () => {
    const victim = await createKey(gw.url, { name: 'victim', budget_usd: 1000 });
    const attacker = await createKey(gw.url, { name: 'attacker', budget_usd: 1000 });
    const send = (key: string, words: number) =>
      new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: { 'x-request-id': 'shared-id' } }).chat.completions.create({
        model: 'paid',
        messages: [{ role: 'user', content: 'word '.repeat(words) }],
      });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? send(victim.key, 200) : send(attacker.key, 5))));
    expect(answers.every((a) => a.choices.length === 1)).toBe(true);

    const costOf = async (keyId: string) => {
      const { body } = await admin(gw.url, 'GET', `/admin/logs?key=${keyId}&limit=100`);
      const records = body.records as Array<{ id: string; client_request_id: string; cost_usd: number }>;
      return { records, cost: records.reduce((sum, r) => sum + r.cost_usd, 0) };
    };
    await eventually(async () => {
      const [v, a] = [await costOf(victim.id), await costOf(attacker.id)];
      expect(v.records).toHaveLength(10);
      expect(a.records).toHaveLength(10);
      // Each record has its own call id; the client's id is kept only to correlate.
      expect(new Set([...v.records, ...a.records].map((r) => r.id)).size).toBe(20);
      expect([...v.records, ...a.records].every((r) => r.client_request_id === 'shared-id')).toBe(true);
      const keys = (await admin(gw.url, 'GET', '/admin/keys')).body.keys as Array<{ id: string; spend_usd: number }>;
      const spend = (id: string) => keys.find((k) => k.id === id)!.spend_usd;
      expect(spend(victim.id)).toBeCloseTo(v.cost, 9);
      expect(spend(attacker.id)).toBeCloseTo(a.cost, 9);
      expect(spend(victim.id)).toBeGreaterThan(spend(attacker.id) * 5);
    });
  });

  it('does not let a fixed x-request-id carry a key past its tpm', async () => {
    const admitted = async (fixedId: boolean) => {
      const key = await createKey(gw.url, { name: `tpm-${fixedId}`, tpm: 2000 });
      let count = 0;
      for (let batch = 0; batch < 8; batch++) {
        const calls = Array.from({ length: 5 }, (_, i) =>
          fetch(`${gw.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json', 'x-request-id': fixedId ? 'fixed' : `unique-${batch}-${i}` },
            body: JSON.stringify({ model: 'free', stream: true, messages: [{ role: 'user', content: 'word '.repeat(100) }] }),
          }).then(async (res) => {
            await res.text();
            if (res.status === 200) count++;
          }),
        );
        await Promise.all(calls);
      }
      return count;
    };
    const unique = await admitted(false);
    expect(unique).toBeLessThan(40);
    expect(unique).toBeGreaterThan(0);
    expect(await admitted(true)).toBe(unique);
  });
});

describe('failures classified at the edge', () => {
  let bad: ScriptedOpenAI;
  let good: ScriptedOpenAI;
  let gw: TestGateway;
  let records: LedgerRecord[];

  beforeAll(async () => {
    [bad, good] = await Promise.all([startScriptedOpenAI('bad'), startScriptedOpenAI('good')]);
  });
  // A fresh gateway per test: health (cooldowns) from one test must not steer the next.
  beforeEach(async () => {
    const on = (fake: ScriptedOpenAI) => ({ provider: fake.name, model: `${fake.name}-model`, price: { input: 1, output: 2 } });
    gw = await startGateway({
      auth: { master_key: MASTER },
      providers: { bad: { type: 'openai-compatible', base_url: `${bad.url}/v1` }, good: { type: 'openai-compatible', base_url: `${good.url}/v1` } },
      models: [
        { name: 'failover', strategy: 'priority', retries: 1, deployments: [on(bad), on(good)] },
        { name: 'alone', retries: 0, deployments: [on(bad)] },
        { name: 'cached', retries: 0, cache: { ttl_s: 60 }, deployments: [on(good)] },
      ],
    });
    records = recordsOf(gw);
  });
  afterEach(async () => {
    bad.behave(undefined);
    await gw.close();
  });
  afterAll(async () => {
    await Promise.all([bad.close(), good.close()]);
  });

  const errorBodyAt200 = () => bad.behave((_req, res) => sendJson(res, 200, { error: { message: 'quota exceeded', type: 'server_error' } }));
  const invalidJsonAt200 = () =>
    bad.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":"chatcmpl-1","choices":[{"mess');
    });

  for (const [name, script] of [['an error body', errorBodyAt200], ['invalid JSON', invalidJsonAt200]] as const) {
    it(`fails over from a 200 with ${name}, plain and streamed`, async () => {
      script();
      const { data, response } = await gw.client.chat.completions.create({ model: 'failover', messages: hello }).withResponse();
      expect(data.choices[0]!.message.content).toBe(good.text);
      expect(response.headers.get('x-gateway-attempts')).toBe('2');

      const stream = await gw.client.chat.completions.create({ model: 'failover', messages: hello, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe(good.text);
      expect(records.map((r) => [r.status, r.provider, r.attempts])).toEqual([
        [200, 'good', 2],
        [200, 'good', 2],
      ]);
    });

    it(`records 502 when no deployment is left after a 200 with ${name}`, async () => {
      script();
      const err = await gw.client.chat.completions.create({ model: 'alone', messages: hello }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_invalid_response');
      // Not an internal message: nothing about properties of undefined.
      expect((err as Error).message).not.toMatch(/undefined|map/);
      const streamed = await post(gw, { model: 'alone', messages: hello, stream: true });
      expect(streamed.status).toBe(502);
      expect(records.map((r) => [r.status, r.error_code])).toEqual([
        [502, 'upstream_invalid_response'],
        [502, 'upstream_invalid_response'],
      ]);
    });
  }

  it('ends a stream that stops without a finish with an error event and no [DONE], recorded 502', async () => {
    bad.behave((req, res) => {
      const model = (req.body as { model: string }).model;
      const chunk = (content: string) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(sseEvents([{ data: chunk('half an ') }, { data: chunk('answer') }]));
    });
    const res = await post(gw, { model: 'alone', messages: hello, stream: true });
    expect(res.status).toBe(200);
    expect(res.text).toContain('half an ');
    expect(res.text).not.toContain('[DONE]');
    const last = res.text.trim().split('\n\n').at(-1)!;
    expect(JSON.parse(last.slice('data: '.length))).toMatchObject({ error: { code: 'upstream_invalid_response' } });
    await eventually(async () => expect(records).toHaveLength(1));
    expect(records[0]).toMatchObject({ status: 502, error_code: 'upstream_invalid_response', usage_source: 'estimated' });
    expect(records[0]!.completion_tokens).toBeGreaterThan(0);
  });

  it('answers a pathologically nested body 400, never calls upstream, and leaves health alone', async () => {
    const before = bad.chatCalls() + good.chatCalls();
    for (const model of ['alone', 'alone', 'alone', 'cached']) {
      const res = await post(gw, nestedBody(model, 5000));
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_request' } });
    }
    expect(bad.chatCalls() + good.chatCalls()).toBe(before);
    const { body } = await admin(gw.url, 'GET', '/admin/deployments');
    expect((body.deployments as Array<{ state: string }>).every((d) => d.state === 'healthy')).toBe(true);
    // Sane nesting is untouched.
    const fine = await post(gw, nestedBody('alone', 10));
    expect(fine.status).toBe(200);
  });

  it('bills an abandoned plain call its prompt, estimated, as 499', async () => {
    bad.behave(stall());
    const before = bad.chatCalls();
    const controller = new AbortController();
    const pending = gw.client.chat.completions.create({ model: 'alone', messages: [{ role: 'user', content: 'a long question '.repeat(50) }] }, { signal: controller.signal });
    // The upstream has the prompt: from here on the provider bills it.
    await eventually(async () => expect(bad.chatCalls()).toBe(before + 1));
    controller.abort();
    await expect(pending).rejects.toThrow();
    await eventually(async () => expect(records).toHaveLength(1));
    expect(records[0]).toMatchObject({ status: 499, error_code: 'client_closed', usage_source: 'estimated', provider: 'bad', attempts: 1 });
    expect(records[0]!.prompt_tokens).toBeGreaterThan(100);
    expect(records[0]!.cost_nano_usd).toBe(records[0]!.prompt_tokens * 1000);
  });

  it('bills a stream its client abandoned with what was produced, estimated, as 499', async () => {
    bad.behave((req, res) => {
      const model = (req.body as { model: string }).model;
      const chunk = (content: string) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Some of the answer, then silence: the client gives up before the upstream finishes.
      res.write(sseEvents([{ data: chunk('the first part of a long answer, ') }, { data: chunk('and then some more words') }]));
    });
    const controller = new AbortController();
    const stream = await gw.client.chat.completions.create({ model: 'alone', messages: hello, stream: true }, { signal: controller.signal });
    let text = '';
    // The SDK ends the iteration (or throws) once aborted; either way the client is gone.
    await (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (text.includes('more words')) controller.abort();
      }
    })().catch(() => undefined);
    expect(text).toContain('more words');
    await eventually(async () => expect(records).toHaveLength(1));
    expect(records[0]).toMatchObject({ status: 499, error_code: 'client_closed', usage_source: 'estimated', provider: 'bad', attempts: 1 });
    expect(records[0]!.prompt_tokens).toBeGreaterThan(0);
    expect(records[0]!.completion_tokens).toBeGreaterThan(5);
    expect(records[0]!.cost_nano_usd).toBe(records[0]!.prompt_tokens * 1000 + records[0]!.completion_tokens * 2000);
  });

  it('answers a good deployment after all that', async () => {
    bad.behave(answer.bind(null, 'bad'));
    const res = await gw.client.chat.completions.create({ model: 'failover', messages: hello });
    expect(res.choices[0]!.message.content).toBe(bad.text);
  });
});

describe('parameters a provider cannot honour', () => {
  let anthropic: FakeAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    gw = await startGateway({
      providers: { anthropic: { type: 'anthropic', api_key: 'test-key', base_url: anthropic.url } },
      models: [{ name: 'claude', retries: 0, deployments: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest' }] }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await anthropic.close();
  });

  it('says what it dropped in x-gateway-warnings and the ledger, plain and streamed', async () => {
    const records = recordsOf(gw);
    const { response } = await gw.client.chat.completions.create({ model: 'claude', messages: hello, temperature: 0.2, seed: 7 }).withResponse();
    const warnings = response.headers.get('x-gateway-warnings');
    expect(warnings).toContain('temperature is not supported by anthropic');
    expect(warnings).toContain('seed');
    const streamed = await gw.client.chat.completions.create({ model: 'claude', messages: hello, top_p: 0.5, stream: true }).withResponse();
    for await (const _ of streamed.data);
    expect(streamed.response.headers.get('x-gateway-warnings')).toContain('top_p');
    const plain = await gw.client.chat.completions.create({ model: 'claude', messages: hello }).withResponse();
    expect(plain.response.headers.get('x-gateway-warnings')).toBeNull();
    expect(records.map((r) => r.warnings?.length ?? 0)).toEqual([2, 1, 0]);
    const sent = anthropic.requests.at(-3)!.body as Record<string, unknown>;
    expect(sent.temperature).toBeUndefined();
  });
});

describe('a client key', () => {
  it('is never the key of a call: the gateway makes its own, unguessable and time-ordered', async () => {
    const gw = await startGateway({ providers: { demo: { type: 'mock' } }, models: [{ name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] }] });
    try {
      const records = recordsOf(gw);
      const client = clientFor(gw.url, 'anything');
      for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'mock', messages: hello });
      const ids = records.map((r) => r.id);
      expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
      expect([...ids].sort()).toEqual(ids);
      expect(new Set(ids).size).toBe(3);
    } finally {
      await gw.close();
    }
  });
});
