/**
 * The response cache over HTTP, on the memory store and on a real Redis (own key prefix,
 * cleaned up): hits and misses for plain and streamed calls, bypass, TTL, key sensitivity,
 * size bounds, coalescing of concurrent calls, clean-finish-only storing, and what hits cost
 * in the ledger, the usage report and /metrics. A wire-faithful fake OpenAI counts the calls
 * that really went upstream.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendSseSplit, sendJson } from './fakes/fake-server.js';
import { buildChunks, buildCompletion, DEFAULT_TEXT, DEFAULT_USAGE, sseFrames, startFakeOpenAI, type FakeChatSpec, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { eventually } from './helpers/wait.js';

const MASTER = 'mk-cache-test';
const KEY = 'sk-fake-openai';
/** nano-USD of the fake's default usage at the `cached` group's price (0.15 / 0.075 cached / 0.60 per 1M). */
const DEFAULT_COST_NANO = (DEFAULT_USAGE.prompt_tokens - DEFAULT_USAGE.cached_tokens) * 150 + DEFAULT_USAGE.cached_tokens * 75 + DEFAULT_USAGE.completion_tokens * 600;

type Params = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
type Chunk = OpenAI.Chat.ChatCompletionChunk;

function deployment() {
  return [{ provider: 'oa', model: 'gpt-4o-mini', price: { input: 0.15, output: 0.6, cached_input: 0.075 } }];
}

function gatewayConfig(fake: FakeOpenAI, store: { redis_url?: string; key_prefix?: string }) {
  return {
    store,
    auth: { master_key: MASTER },
    providers: { oa: { type: 'openai', api_key: KEY, base_url: `${fake.url}/v1` } },
    models: [
      { name: 'cached', retries: 0, cache: { ttl_s: 60 }, deployments: deployment() },
      { name: 'cached-twin', retries: 0, cache: { ttl_s: 60 }, deployments: deployment() },
      { name: 'short', retries: 0, cache: { ttl_s: 20 }, deployments: deployment() },
      { name: 'any-temp', retries: 0, cache: { ttl_s: 60, any_temperature: true }, deployments: deployment() },
      { name: 'small', retries: 0, cache: { ttl_s: 60, max_entries: 2 }, deployments: deployment() },
      { name: 'uncached', retries: 0, deployments: deployment() },
    ],
  };
}

/** A unique user message, so tests sharing one cache never see each other's entries. */
function ask(text: string, extra: Partial<Params> = {}): Params {
  return { model: 'cached', temperature: 0, messages: [{ role: 'user', content: `${text} ${randomBytes(4).toString('hex')}` }], ...extra };
}

async function collect(stream: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function textOf(chunks: Chunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

/** Tool calls assembled from stream deltas, as an SDK user would. */
function toolCallsOf(chunks: Chunk[]) {
  const calls: { id?: string; name?: string; arguments: string }[] = [];
  for (const chunk of chunks) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      const call = (calls[delta.index] ??= { arguments: '' });
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name = delta.function.name;
      call.arguments += delta.function?.arguments ?? '';
    }
  }
  return calls;
}

const stores: { name: string; store: () => { redis_url?: string; key_prefix?: string } }[] = [
  { name: 'memory', store: () => ({}) },
  { name: 'redis', store: () => ({ redis_url: REDIS_URL, key_prefix: uniquePrefix('cache') }) },
];

describe.each(stores)('response cache ($name store)', ({ store }) => {
  const storeConfig = store();
  let fake: FakeOpenAI;
  let gw: TestGateway;
  const upstreamCalls = () => fake.chatBodies().length;
  /** Added to the memory cache's clock: the TTL test moves time instead of waiting. */
  let clockSkew = 0;

  /** Makes every cached entry as old as its TTL: the memory store by its clock, Redis by its own expiry. */
  async function ageEntries(ms: number): Promise<void> {
    if (!storeConfig.redis_url) {
      clockSkew += ms;
      return;
    }
    const redis = new Redis(storeConfig.redis_url);
    try {
      // The answer is stored after the client has it (a follower may even have been served
      // from the call in flight), so wait for an entry that ages out within `ms`; the other
      // tests' entries live for a minute and do not count.
      await eventually(async () => {
        let aged = 0;
        for (const key of await redis.keys(`${storeConfig.key_prefix}cache:*:e:*`)) {
          // The gateway gave the entry its group's TTL; what is left of it passes at once
          // (a timeout of 0, not 1 ms: a call can reach Redis within the millisecond).
          const left = await redis.pttl(key);
          if (left > 0 && left <= ms) aged += await redis.pexpire(key, 0);
        }
        expect(aged).toBeGreaterThan(0);
      });
    } finally {
      redis.disconnect();
    }
  }

  /** Calls `create` and returns the body with the headers that matter here. */
  async function chat(params: Params, headers: Record<string, string> = {}) {
    const { data, response } = await gw.client.chat.completions.create(params, { headers }).withResponse();
    return { data, cache: response.headers.get('x-gateway-cache'), cost: response.headers.get('x-gateway-cost-usd'), attempts: response.headers.get('x-gateway-attempts') };
  }

  async function stream(params: Params, headers: Record<string, string> = {}) {
    const { data, response } = await gw.client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, { headers }).withResponse();
    const chunks = await collect(data);
    return { chunks, text: textOf(chunks), usage: chunks.at(-1)?.usage, cache: response.headers.get('x-gateway-cache') };
  }

  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: KEY });
    gw = await startGateway(gatewayConfig(fake, storeConfig), { now: () => Date.now() + clockSkew });
  });

  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    if (storeConfig.key_prefix) await dropPrefix(storeConfig.key_prefix);
  });

  it('answers a repeated plain call from the cache: same answer, cost 0, no upstream call', async () => {
    const params = ask('What is a fox?');
    const before = upstreamCalls();
    const miss = await chat(params);
    expect(miss.cache).toBe('miss');
    expect(Number(miss.cost)).toBeCloseTo(DEFAULT_COST_NANO / 1e9, 12);
    const hit = await chat(params);
    expect(hit.cache).toBe('hit');
    expect(hit.cost).toBe('0.000000000');
    expect(hit.attempts).toBe('0');
    expect(upstreamCalls()).toBe(before + 1);
    expect(hit.data.choices).toEqual(miss.data.choices);
    expect(hit.data.usage).toEqual(miss.data.usage);
    expect(hit.data.model).toBe(miss.data.model);
    expect(hit.data.id).not.toBe(miss.data.id);
  });

  it('replays a streamed answer as a stream equal to the live one, usage included', async () => {
    const params = ask('Tell a story');
    const live = await stream(params);
    expect(live.cache).toBe('miss');
    const replay = await stream(params);
    expect(replay.cache).toBe('hit');
    expect(replay.text).toBe(DEFAULT_TEXT);
    expect(replay.text).toBe(live.text);
    expect(replay.usage).toEqual(live.usage);
    // Chunked like a live stream: many deltas, a finish chunk, then the usage chunk.
    expect(replay.chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(3);
    expect(replay.chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    expect(replay.chunks.at(-1)?.choices).toEqual([]);
    // The same answer serves the other form: JSON from a streamed miss.
    const json = await chat(params);
    expect(json.cache).toBe('hit');
    expect(json.data.choices[0]?.message.content).toBe(live.text);
  });

  it('replays tool calls in both forms, whichever form fetched them', async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const spec: FakeChatSpec = { tool_calls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }] };
    const params = ask('Weather in Paris?', { tools });
    fake.enqueueChat(spec);
    const live = await chat(params);
    expect(live.cache).toBe('miss');
    const replay = await stream(params);
    expect(replay.cache).toBe('hit');
    expect(toolCallsOf(replay.chunks)).toEqual([{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }]);
    expect(replay.chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');

    const streamed = ask('Weather in Rome?', { tools });
    fake.enqueueChat({ tool_calls: [{ id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' }] });
    const first = await stream(streamed);
    const again = await chat(streamed);
    expect(again.cache).toBe('hit');
    expect(again.data.choices[0]?.message.tool_calls).toEqual([{ id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }]);
    expect(again.data.choices[0]?.message.content).toBeNull();
    expect(toolCallsOf(first.chunks)[0]?.arguments).toBe('{"city":"Rome"}');
  });

  it('bypasses non-deterministic calls and no-cache; no-store is not written', async () => {
    const before = upstreamCalls();
    const noTemperature = { ...ask('Random?'), temperature: undefined };
    expect((await chat(noTemperature)).cache).toBe('bypass');
    expect((await chat(noTemperature)).cache).toBe('bypass');
    const warm = ask('Warm?', { temperature: 0.7 });
    expect((await chat(warm)).cache).toBe('bypass');
    expect((await chat(warm)).cache).toBe('bypass');
    expect(upstreamCalls()).toBe(before + 4);

    const params = ask('Fresh please');
    expect((await chat(params)).cache).toBe('miss');
    expect((await chat(params, { 'cache-control': 'no-cache' })).cache).toBe('bypass');
    expect((await chat(params)).cache).toBe('hit');
    expect(upstreamCalls()).toBe(before + 6);

    const secret = ask('Do not keep this');
    expect((await chat(secret, { 'cache-control': 'no-store' })).cache).toBe('miss');
    expect((await chat(secret, { 'cache-control': 'no-store' })).cache).toBe('miss');
    expect((await chat(secret)).cache).toBe('miss');
    expect((await chat(secret)).cache).toBe('hit');
    expect(upstreamCalls()).toBe(before + 9);

    const streamed = await stream(ask('Stream fresh'), { 'cache-control': 'no-cache, no-store' });
    expect(streamed.cache).toBe('bypass');
    expect(streamed.text).toBe(DEFAULT_TEXT);
  });

  it('caches any temperature where the group opts in, and says nothing for groups without a cache', async () => {
    const params = ask('Be creative', { model: 'any-temp', temperature: 0.9 });
    expect((await chat(params)).cache).toBe('miss');
    expect((await chat(params)).cache).toBe('hit');
    const other = await chat(ask('No cache here', { model: 'uncached' }));
    expect(other.cache).toBeNull();
    expect(other.data.choices[0]?.message.content).toBe(DEFAULT_TEXT);
  });

  it('expires entries after ttl_s', async () => {
    const params = ask('Short-lived', { model: 'short' });
    expect((await chat(params)).cache).toBe('miss');
    expect((await chat(params)).cache).toBe('hit');
    await ageEntries(21_000);
    expect((await chat(params)).cache).toBe('miss');
  });

  it('misses when anything that changes the answer changes, and hits when only delivery fields do', async () => {
    const base: Params = {
      ...ask('Key sensitivity', { model: 'any-temp' }),
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      tool_choice: 'auto',
      response_format: { type: 'text' },
      top_p: 1,
      max_tokens: 100,
      stop: ['END'],
      seed: 7,
      n: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
    };
    expect((await chat(base)).cache).toBe('miss');
    expect((await chat(base)).cache).toBe('hit');
    const content = base.messages[0]!.content as string;
    const variants: Record<string, Params> = {
      model: { ...base, model: 'cached-twin' },
      message: { ...base, messages: [{ role: 'user', content: `${content}!` }] },
      role: { ...base, messages: [{ role: 'system', content }] },
      'extra message': { ...base, messages: [{ role: 'system', content: 'Be brief.' }, ...base.messages] },
      tools: { ...base, tools: [{ type: 'function', function: { name: 'lookup2', parameters: { type: 'object' } } }] },
      tool_choice: { ...base, tool_choice: 'none' },
      response_format: { ...base, response_format: { type: 'json_object' } },
      temperature: { ...base, temperature: 0.5 },
      top_p: { ...base, top_p: 0.9 },
      max_tokens: { ...base, max_tokens: 101 },
      max_completion_tokens: { ...base, max_completion_tokens: 100 },
      stop: { ...base, stop: ['STOP'] },
      seed: { ...base, seed: 8 },
      n: { ...base, n: 2 },
      presence_penalty: { ...base, presence_penalty: 0.5 },
      frequency_penalty: { ...base, frequency_penalty: 0.5 },
    };
    for (const [name, variant] of Object.entries(variants)) {
      expect({ name, cache: (await chat(variant)).cache }).toEqual({ name, cache: 'miss' });
    }
    // Delivery and attribution fields, and the order of JSON keys, do not change the answer.
    expect((await chat({ ...base, user: 'someone-else' })).cache).toBe('hit');
    const reordered = Object.fromEntries(Object.entries(base).reverse()) as unknown as Params;
    expect((await chat(reordered)).cache).toBe('hit');
    expect((await stream(base)).cache).toBe('hit');
  });

  it('bounds each group by max_entries', async () => {
    const first = ask('first', { model: 'small' });
    for (const params of [first, ask('second', { model: 'small' }), ask('third', { model: 'small' })]) {
      expect((await chat(params)).cache).toBe('miss');
    }
    expect((await chat(first)).cache).toBe('miss');
  });

  it('coalesces identical concurrent calls into one upstream call, plain and streamed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    fake.enqueue(async (req, res) => {
      arrived();
      await gate;
      const body = req.body as Record<string, unknown>;
      if (body.stream === true) await sendSseSplit(res, sseFrames(buildChunks({}, body)));
      else sendJson(res, 200, buildCompletion({}, body));
    });
    const params = ask('Everyone asks this');
    const before = upstreamCalls();
    const calls = [
      chat(params),
      chat(params),
      chat(params),
      stream(params),
      stream(params),
    ];
    await reached;
    // The other four join the call in flight before it answers.
    await eventually(async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      expect(text).toMatch(/^konnect_cache_waiting 4$/m);
    });
    release();
    const results = await Promise.all(calls);
    expect(upstreamCalls()).toBe(before + 1);
    const statuses = results.map((r) => r.cache).sort();
    expect(statuses).toEqual(['hit', 'hit', 'hit', 'hit', 'miss']);
    for (const r of results) {
      if ('text' in r) expect(r.text).toBe(DEFAULT_TEXT);
      else expect(r.data.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    }
  });

  it('never stores a failed or cut stream, nor a failed call', async () => {
    const before = upstreamCalls();
    const cut = ask('Cut me');
    fake.enqueueCutStream({}, 700);
    await expect(stream(cut)).rejects.toThrow();
    const afterCut = await stream(cut);
    expect(afterCut.cache).toBe('miss');
    expect(afterCut.text).toBe(DEFAULT_TEXT);

    const broken = ask('Break me');
    fake.enqueueStreamError({}, 3);
    await expect(stream(broken)).rejects.toThrow();
    expect((await stream(broken)).cache).toBe('miss');

    const failing = ask('Fail me');
    fake.enqueueError(500, { message: 'boom' });
    await expect(chat(failing)).rejects.toMatchObject({ status: 502 });
    expect((await chat(failing)).cache).toBe('miss');
    expect(upstreamCalls()).toBe(before + 6);
  });

  it('records hits on the ledger at cost 0 with the cost saved, in logs, reports and metrics', async () => {
    const params = ask('Ledger me');
    const miss = await gw.client.chat.completions.create(params, { headers: { 'x-request-id': `miss-${randomBytes(3).toString('hex')}` } }).withResponse();
    const hitId = `hit-${randomBytes(3).toString('hex')}`;
    await gw.client.chat.completions.create(params, { headers: { 'x-request-id': hitId } });
    const streamHitId = `shit-${randomBytes(3).toString('hex')}`;
    await collect(await gw.client.chat.completions.create({ ...params, stream: true }, { headers: { 'x-request-id': streamHitId } }));
    expect(miss.response.headers.get('x-gateway-cache')).toBe('miss');
    await gw.app.gateway.ledger.flush();

    const admin = (path: string) => fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
    const { records } = (await (await admin('/admin/logs?limit=1000')).json()) as { records: Record<string, unknown>[] };
    const byId = (id: string) => records.find((r) => r.client_request_id === id);
    const missRecord = byId(miss.response.headers.get('x-request-id')!);
    expect(missRecord).toMatchObject({ cache_hit: false, cache_status: 'miss', cost_usd: DEFAULT_COST_NANO / 1e9, prompt_tokens: 1200, saved_cost_usd: 0 });
    for (const id of [hitId, streamHitId]) {
      expect(byId(id)).toMatchObject({ cache_hit: true, cache_status: 'hit', cost_usd: 0, saved_cost_usd: DEFAULT_COST_NANO / 1e9, prompt_tokens: 0, completion_tokens: 0, attempts: 0, status: 200, provider: 'oa', model: 'cached' });
    }
    expect(byId(streamHitId)?.ttft_ms).not.toBeNull();

    const hits = records.filter((r) => r.model === 'cached' && r.cache_hit === true);
    const report = (await (await admin('/admin/usage?group_by=model')).json()) as { rows: Record<string, unknown>[]; totals: Record<string, number> };
    const row = report.rows.find((r) => r.model === 'cached');
    expect(row?.cache_hits).toBe(hits.length);
    const saved = hits.reduce((sum, r) => sum + Math.round((r.saved_cost_usd as number) * 1e9), 0);
    expect(row?.saved_cost_usd).toBeCloseTo(saved / 1e9, 12);
    expect(report.totals.cache_hits).toBeGreaterThanOrEqual(hits.length);

    const csv = await (await admin('/admin/usage?group_by=model&format=csv')).text();
    const [header, ...lines] = csv.trimEnd().split('\r\n');
    const columns = header!.split(',');
    expect(columns.slice(-2)).toEqual(['cache_hits', 'saved_cost_usd']);
    const line = lines.map((l) => l.split(',')).find((cells) => cells[0] === 'cached')!;
    expect(Number(line[columns.indexOf('cache_hits')])).toBe(hits.length);
    expect(line[columns.indexOf('saved_cost_usd')]).toMatch(/^\d+\.\d{9}$/);

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/^konnect_cache_requests_total\{model="cached",result="hit"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^konnect_cache_requests_total\{model="cached",result="miss"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^konnect_cache_requests_total\{model="cached",result="bypass"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^konnect_cache_saved_usd_total\{model="cached"\} 0\.\d+$/m);
  });
});

describe('response cache shared by two instances on one Redis', () => {
  const prefix = uniquePrefix('cache-shared');
  let fake: FakeOpenAI;
  let one: TestGateway;
  let two: TestGateway;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: KEY });
    const config = gatewayConfig(fake, { redis_url: REDIS_URL, key_prefix: prefix });
    one = await startGateway(config);
    two = await startGateway(config);
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await fake?.close();
    await dropPrefix(prefix);
  });

  it('answers on one instance what the other fetched, plain and streamed', async () => {
    const before = fake.chatBodies().length;
    const params = ask('Shared question');
    const first = await one.client.chat.completions.create(params).withResponse();
    expect(first.response.headers.get('x-gateway-cache')).toBe('miss');
    const second = await two.client.chat.completions.create(params).withResponse();
    expect(second.response.headers.get('x-gateway-cache')).toBe('hit');
    expect(second.data.choices).toEqual(first.data.choices);

    const streamed = ask('Shared stream');
    const live = textOf(await collect(await one.client.chat.completions.create({ ...streamed, stream: true })));
    const replay = await two.client.chat.completions.create({ ...streamed, stream: true }).withResponse();
    expect(replay.response.headers.get('x-gateway-cache')).toBe('hit');
    expect(textOf(await collect(replay.data))).toBe(live);
    expect(fake.chatBodies().length).toBe(before + 2);
  });
});
