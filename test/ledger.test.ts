/**
 * The ledger end to end: a mixed run through the gateway with the official `openai` SDK
 * against a fake OpenAI upstream, then the reports. Runs on the memory store and on a real
 * Redis (own key prefix, cleaned up).
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, sendSseSplit, sseEvents, startFakeServer, type FakeServer, type RecordedRequest } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';
import type { LedgerRecord } from '../src/usage/ledger.js';

const MASTER = 'mk-ledger-test';
const UPSTREAM_MODEL = 'gpt-4o-mini-2024-07-18';

interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  cached?: number;
}

function usageBody(u: WireUsage) {
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0 },
  };
}

function completion(u: WireUsage, message: Record<string, unknown> = { role: 'assistant', content: 'Hello there.' }, model = UPSTREAM_MODEL) {
  return (_req: RecordedRequest, res: ServerResponse) =>
    sendJson(res, 200, {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: { refusal: null, ...message }, logprobs: null, finish_reason: message.tool_calls ? 'tool_calls' : 'stop' }],
      usage: usageBody(u),
    });
}

function chunk(delta: Record<string, unknown>, finish: string | null = null) {
  return { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1_700_000_000, model: UPSTREAM_MODEL, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

/** A stream as OpenAI sends it when asked for usage: content chunks, a finish chunk, a usage chunk, [DONE]. */
function stream(deltas: Record<string, unknown>[], finish: string, u: WireUsage | undefined, cut?: boolean) {
  return async (_req: RecordedRequest, res: ServerResponse) => {
    const events: { data: unknown }[] = [{ data: chunk({ role: 'assistant', content: '' }) }, ...deltas.map((d) => ({ data: chunk(d) }))];
    if (cut) {
      const body = sseEvents(events);
      // The connection dies after the content: no finish, no usage, no [DONE].
      return sendSseSplit(res, body + sseEvents([{ data: chunk({ content: 'tail' }) }]), { stopAfterBytes: Buffer.byteLength(body) + 20 });
    }
    events.push({ data: chunk({}, finish) });
    if (u) events.push({ data: { ...chunk({}), choices: [], usage: usageBody(u) } });
    events.push({ data: '[DONE]' });
    return sendSseSplit(res, sseEvents(events));
  };
}

function failing(status: number, message: string) {
  return (_req: RecordedRequest, res: ServerResponse) => sendJson(res, status, { error: { message, type: 'server_error', param: null, code: null } });
}

function embedding(promptTokens: number) {
  return (req: RecordedRequest, res: ServerResponse) => {
    const vector = [0.25, -0.5, 1];
    const base64 = (req.body as { encoding_format?: string }).encoding_format === 'base64';
    sendJson(res, 200, {
      object: 'list',
      model: 'text-embedding-3-small',
      data: [{ object: 'embedding', index: 0, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector }],
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  };
}

/** Prices in nano-USD per token (USD per 1M tokens × 1000): integers, so expected costs are exact. */
const FAST = { input: 150, cached: 75, output: 600 }; // configured: 0.15 / 0.075 / 0.60
const GPT4O = { input: 2500, cached: 1250, output: 10_000 }; // bundled gpt-4o: 2.5 / 1.25 / 10
const EMBED = 20; // bundled text-embedding-3-small: 0.02

function nano(price: typeof FAST, u: WireUsage): number {
  const cached = u.cached ?? 0;
  return (u.prompt_tokens - cached) * price.input + cached * price.cached + u.completion_tokens * price.output;
}

async function admin(gw: TestGateway, path: string, key = MASTER): Promise<Response> {
  return fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\r\n');
  const columns = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [columns[i]!, value])));
}

interface ReportRow extends Record<string, unknown> {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  total_tokens: number;
  cost_usd: number;
  latency_ms_avg: number;
  ttft_ms_avg: number | null;
}

const stores: { name: string; store: () => { redis_url?: string; key_prefix?: string } }[] = [
  { name: 'memory', store: () => ({}) },
  { name: 'redis', store: () => ({ redis_url: REDIS_URL, key_prefix: uniquePrefix('ledger') }) },
];

describe.each(stores)('usage ledger over HTTP ($name store)', ({ name, store }) => {
  let fake: FakeServer;
  let gw: TestGateway;
  const storeConfig = store();
  /** What the fake reported, per call that it answered with usage. */
  const expected = { requests: 0, errors: 0, prompt: 0, completion: 0, cached: 0, nano: 0 };
  const costHeaders: string[] = [];

  beforeAll(async () => {
    fake = await startFakeServer(failing(500, 'no script for this request'));
    gw = await startGateway({
      store: storeConfig,
      auth: { master_key: MASTER },
      providers: { oa: { type: 'openai', api_key: 'sk-upstream', base_url: `${fake.url}/v1` } },
      models: [
        { name: 'fast', retries: 0, deployments: [{ provider: 'oa', model: 'gpt-4o-mini', price: { input: 0.15, output: 0.6, cached_input: 0.075 } }] },
        { name: 'big', retries: 0, deployments: [{ provider: 'oa', model: 'gpt-4o' }] },
        { name: 'embed', retries: 0, deployments: [{ provider: 'oa', model: 'text-embedding-3-small' }] },
      ],
      ledger: { spool_dir: `/tmp/konnect-ledger-test-${randomBytes(4).toString('hex')}` },
    });

    const count = (price: typeof FAST, u: WireUsage, error = false) => {
      expected.requests++;
      if (error) expected.errors++;
      expected.prompt += u.prompt_tokens;
      expected.completion += u.completion_tokens;
      expected.cached += u.cached ?? 0;
      expected.nano += nano(price, u);
    };
    const client = gw.client;

    // 1. plain
    const u1 = { prompt_tokens: 120, completion_tokens: 30 };
    fake.enqueue(completion(u1));
    const r1 = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-gateway-tags': 'plain, finance' } }).withResponse();
    costHeaders.push(r1.response.headers.get('x-gateway-cost-usd') ?? '');
    expect(r1.data.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30 });
    count(FAST, u1);

    // 2. plain with cached prompt tokens, bundled price
    const u2 = { prompt_tokens: 2000, completion_tokens: 10, cached: 1536 };
    fake.enqueue(completion(u2, undefined, 'gpt-4o-2024-08-06'));
    const r2 = await client.chat.completions.create({ model: 'big', messages: [{ role: 'user', content: 'long context' }] }).withResponse();
    costHeaders.push(r2.response.headers.get('x-gateway-cost-usd') ?? '');
    count(GPT4O, u2);

    // 3. streamed, client did not ask for usage: the gateway asks upstream anyway
    const u3 = { prompt_tokens: 50, completion_tokens: 7 };
    fake.enqueue(stream([{ content: 'Once ' }, { content: 'upon a time' }], 'stop', u3));
    const s3 = await client.chat.completions.create({ model: 'fast', stream: true, messages: [{ role: 'user', content: 'story' }] });
    const seen3: unknown[] = [];
    for await (const part of s3) if (part.usage) seen3.push(part.usage);
    expect(seen3).toEqual([]);
    count(FAST, u3);

    // 4. streamed with include_usage: the client gets the upstream's numbers
    const u4 = { prompt_tokens: 64, completion_tokens: 9, cached: 32 };
    fake.enqueue(stream([{ content: 'Yes.' }], 'stop', u4));
    const s4 = await client.chat.completions.create({ model: 'fast', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'ok?' }] });
    let usage4: OpenAI.CompletionUsage | undefined;
    for await (const part of s4) if (part.usage) usage4 = part.usage;
    expect(usage4).toMatchObject({ prompt_tokens: 64, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 32 } });
    count(FAST, u4);

    // 5. tool call, plain
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const u5 = { prompt_tokens: 310, completion_tokens: 22 };
    fake.enqueue(completion(u5, { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }));
    const r5 = await client.chat.completions.create({ model: 'fast', tools, messages: [{ role: 'user', content: 'weather in Paris?' }] }).withResponse();
    expect(r5.data.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_weather' } });
    costHeaders.push(r5.response.headers.get('x-gateway-cost-usd') ?? '');
    count(FAST, u5);

    // 6. tool call, streamed
    const u6 = { prompt_tokens: 315, completion_tokens: 18 };
    fake.enqueue(
      stream(
        [
          { tool_calls: [{ index: 0, id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
          { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
          { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] },
        ],
        'tool_calls',
        u6,
      ),
    );
    const s6 = await client.chat.completions.create({ model: 'fast', stream: true, tools, messages: [{ role: 'user', content: 'weather in Oslo?' }] });
    let args = '';
    for await (const part of s6) args += part.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
    expect(args).toBe('{"city":"Oslo"}');
    count(FAST, u6);

    // 7. upstream 500 → 502, recorded as an error with no tokens
    fake.enqueue(failing(500, 'upstream broke'));
    await expect(client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 502 });
    count(FAST, { prompt_tokens: 0, completion_tokens: 0 }, true);

    // 8. upstream 400 keeps its status
    fake.enqueue(failing(400, 'bad temperature'));
    await expect(client.chat.completions.create({ model: 'big', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 400 });
    count(GPT4O, { prompt_tokens: 0, completion_tokens: 0 }, true);

    // 9. embeddings
    fake.enqueue(embedding(9));
    const r9 = await client.embeddings.create({ model: 'embed', input: 'hello world' }).withResponse();
    expect(r9.data.usage.prompt_tokens).toBe(9);
    costHeaders.push(r9.response.headers.get('x-gateway-cost-usd') ?? '');
    count({ input: EMBED, cached: EMBED, output: 0 }, { prompt_tokens: 9, completion_tokens: 0 });

    await gw.app.gateway.ledger.flush();
  });

  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    if (storeConfig.key_prefix) await dropPrefix(storeConfig.key_prefix);
  });

  it('shows the store in /health', async () => {
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { store: unknown };
    expect(health.store).toEqual({ type: name, status: 'ok' });
  });

  it('prices each non-streamed answer exactly in x-gateway-cost-usd', () => {
    expect(costHeaders).toEqual([
      (nano(FAST, { prompt_tokens: 120, completion_tokens: 30 }) / 1e9).toFixed(9),
      (nano(GPT4O, { prompt_tokens: 2000, completion_tokens: 10, cached: 1536 }) / 1e9).toFixed(9),
      (nano(FAST, { prompt_tokens: 310, completion_tokens: 22 }) / 1e9).toFixed(9),
      ((9 * EMBED) / 1e9).toFixed(9),
    ]);
  });

  it('totals equal what the upstream reported, and cost = tokens × price', async () => {
    const res = await admin(gw, '/admin/usage');
    expect(res.status).toBe(200);
    const report = (await res.json()) as { rows: ReportRow[]; totals: ReportRow };
    expect(report.totals).toMatchObject({
      requests: expected.requests,
      errors: expected.errors,
      prompt_tokens: expected.prompt,
      completion_tokens: expected.completion,
      cached_tokens: expected.cached,
      total_tokens: expected.prompt + expected.completion,
      cost_usd: expected.nano / 1e9,
    });
    expect(report.rows).toHaveLength(1);
    expect(report.totals.latency_ms_avg).toBeGreaterThan(0);
    expect(report.totals.ttft_ms_avg).not.toBeNull();
  });

  it('groups by model, provider, upstream model and route', async () => {
    const res = await admin(gw, '/admin/usage?group_by=model,upstream_model,provider,route');
    const { rows } = (await res.json()) as { rows: ReportRow[] };
    const byKey = Object.fromEntries(rows.map((r) => [`${r.model}|${r.upstream_model}|${r.provider}|${r.route}`, r]));
    expect(Object.keys(byKey).sort()).toEqual([
      'big|gpt-4o-2024-08-06|oa|chat',
      'big|gpt-4o|oa|chat',
      `embed|text-embedding-3-small|oa|embeddings`,
      `fast|${UPSTREAM_MODEL}|oa|chat`,
      'fast|gpt-4o-mini|oa|chat',
    ]);
    expect(byKey[`fast|${UPSTREAM_MODEL}|oa|chat`]).toMatchObject({ requests: 5, errors: 0, prompt_tokens: 120 + 50 + 64 + 310 + 315, cached_tokens: 32 });
    expect(byKey['fast|gpt-4o-mini|oa|chat']).toMatchObject({ requests: 1, errors: 1, prompt_tokens: 0, cost_usd: 0 });
    expect(byKey['big|gpt-4o-2024-08-06|oa|chat']).toMatchObject({ requests: 1, cached_tokens: 1536, cost_usd: nano(GPT4O, { prompt_tokens: 2000, completion_tokens: 10, cached: 1536 }) / 1e9 });
    // Rows come most expensive first.
    expect(rows[0]?.model).toBe('big');
    // Anonymous calls: no key, no team.
    const byKeyTeam = (await (await admin(gw, '/admin/usage?group_by=key&group_by=team')).json()) as { rows: ReportRow[] };
    expect(byKeyTeam.rows).toEqual([expect.objectContaining({ key: null, team: null, requests: expected.requests })]);
  });

  it('answers CSV with the same columns and numbers as JSON', async () => {
    const query = 'group_by=model,provider,route,day';
    const json = (await (await admin(gw, `/admin/usage?${query}`)).json()) as { rows: ReportRow[] };
    const res = await admin(gw, `/admin/usage?${query}&format=csv`);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="usage-.*\.csv"/);
    // Named for the days it covers: `to` is exclusive, so a range ending at midnight ends the day before.
    const ranged = await admin(gw, '/admin/usage?from=2026-03-01T00:00:00Z&to=2026-03-08T00:00:00Z&format=csv');
    expect(ranged.headers.get('content-disposition')).toBe('attachment; filename="usage-2026-03-01-2026-03-07.csv"');
    const text = await res.text();
    expect(text.split('\r\n')[0]).toBe(
      'model,provider,route,day,requests,errors,prompt_tokens,completion_tokens,cached_tokens,total_tokens,cost_usd,latency_ms_avg,latency_ms_p50,latency_ms_p95,latency_ms_p99,ttft_ms_avg,ttft_ms_p50,ttft_ms_p95,cache_hits,saved_cost_usd',
    );
    const csv = parseCsv(text);
    expect(csv).toHaveLength(json.rows.length);
    csv.forEach((line, i) => {
      const row = json.rows[i]!;
      for (const [column, value] of Object.entries(line)) {
        const want = row[column];
        if (want === null) expect(value).toBe('');
        else if (typeof want === 'number') expect(Number(value)).toBe(want);
        else expect(value).toBe(want);
      }
    });
    // Cost is written as an exact decimal, never in exponent notation.
    for (const line of csv) expect(line.cost_usd).toMatch(/^\d+\.\d{9}$/);
  });

  it('groups by hour and limits the range', async () => {
    const hours = (await (await admin(gw, '/admin/usage?group_by=hour')).json()) as { rows: ReportRow[] };
    const hour = new Date().toISOString().slice(0, 13);
    expect(hours.rows.map((r) => (r.hour as string).slice(0, 13))).toContain(hour);
    const past = (await (await admin(gw, '/admin/usage?from=2020-01-01&to=2020-01-31')).json()) as { rows: ReportRow[]; totals: ReportRow; from: string; to: string };
    expect(past.rows).toEqual([]);
    expect(past.totals.requests).toBe(0);
    expect(past.from).toBe('2020-01-01T00:00:00.000Z');
    expect(past.to).toBe('2020-02-01T00:00:00.000Z');
  });

  it('lists request logs newest first with DESIGN fields and filters', async () => {
    const res = await admin(gw, '/admin/logs');
    expect(res.status).toBe(200);
    const { records } = (await res.json()) as { records: Record<string, unknown>[] };
    expect(records).toHaveLength(expected.requests);
    expect(records[0]).toMatchObject({ route: 'embeddings', model: 'embed', provider: 'oa', upstream_model: 'text-embedding-3-small', prompt_tokens: 9, cost_usd: (9 * EMBED) / 1e9, status: 200 });
    const plain = records.at(-1)!;
    expect(Object.keys(plain).sort()).toEqual(
      [
        'attempts',
        'cache_hit',
        'cache_status',
        'cached_tokens',
        'completion_tokens',
        'cost_usd',
        'error_code',
        'guardrails',
        'id',
        'key_id',
        'latency_ms',
        'model',
        'price_known',
        'prompt_tokens',
        'provider',
        'client_request_id',
        'route',
        'saved_cost_usd',
        'status',
        'tags',
        'team',
        'time',
        'ttft_ms',
        'upstream_model',
        'usage_source',
        'warnings',
      ].sort(),
    );
    expect(plain).toMatchObject({ key_id: null, team: null, tags: ['plain', 'finance'], usage_source: 'reported', attempts: 1, ttft_ms: null, cost_usd: nano(FAST, { prompt_tokens: 120, completion_tokens: 30 }) / 1e9 });
    expect(Date.parse(plain.time as string)).toBeGreaterThan(Date.now() - 60_000);
    const times = records.map((r) => Date.parse(r.time as string));
    expect(times.every((t) => t > 0)).toBe(true);
    const streamed = records.find((r) => r.prompt_tokens === 64)!;
    expect(streamed.ttft_ms).toEqual(expect.any(Number));

    const errors = (await (await admin(gw, '/admin/logs?status=5xx')).json()) as { records: Record<string, unknown>[] };
    expect(errors.records).toEqual([expect.objectContaining({ status: 502, error_code: 'upstream_error', model: 'fast' })]);
    const four = (await (await admin(gw, '/admin/logs?status=400')).json()) as { records: Record<string, unknown>[] };
    expect(four.records).toEqual([expect.objectContaining({ status: 400, model: 'big' })]);
    const byModel = (await (await admin(gw, '/admin/logs?model=big&limit=1')).json()) as { records: Record<string, unknown>[] };
    expect(byModel.records).toEqual([expect.objectContaining({ model: 'big', status: 400 })]);
    const byKey = (await (await admin(gw, '/admin/logs?key=key_nobody')).json()) as { records: unknown[] };
    expect(byKey.records).toEqual([]);
    const since = (await (await admin(gw, `/admin/logs?since=${new Date(Date.now() + 60_000).toISOString()}`)).json()) as { records: unknown[] };
    expect(since.records).toEqual([]);
  });

  it('answers bad report parameters with 400 in the gateway error shape', async () => {
    const cases: [string, string][] = [
      ['/admin/usage?group_by=team,colour', 'group_by'],
      ['/admin/usage?from=yesterday', 'from'],
      ['/admin/usage?from=2025-02-01&to=2025-01-01', 'from'],
      ['/admin/usage?format=xml', 'format'],
      ['/admin/usage?groupby=team', 'groupby'],
      ['/admin/logs?limit=abc', 'limit'],
      ['/admin/logs?limit=0', 'limit'],
      ['/admin/logs?status=ok', 'status'],
      ['/admin/logs?since=soon', 'since'],
      // Epoch ms past the largest Date: a 400, not a 500 from toISOString().
      ['/admin/usage?to=9999999999999999', 'to'],
      ['/admin/logs?since=9999999999999999', 'since'],
    ];
    for (const [path, param] of cases) {
      const res = await admin(gw, path);
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code: 'invalid_request' } });
    }
  });

  it('keeps reports behind the master key', async () => {
    for (const path of ['/admin/usage', '/admin/logs']) {
      expect((await fetch(`${gw.url}${path}`)).status).toBe(401);
      const wrong = await admin(gw, path, 'sk-not-master');
      expect(wrong.status).toBe(401);
      expect(((await wrong.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    }
  });
});

describe('usage ledger: estimated usage', () => {
  it('bills a stream without usage and a cut stream by tiktoken, at the same price', async () => {
    const fake = await startFakeServer(failing(500, 'unscripted'));
    const gw = await startGateway({
      auth: { master_key: MASTER },
      providers: { oa: { type: 'openai', api_key: 'sk-upstream', base_url: `${fake.url}/v1` } },
      models: [{ name: 'fast', retries: 0, deployments: [{ provider: 'oa', model: 'gpt-4o-mini', price: { input: 0.15, output: 0.6 } }] }],
    });
    try {
      fake.enqueue(stream([{ content: 'An answer with no usage at the end.' }], 'stop', undefined));
      const s1 = await gw.client.chat.completions.create({ model: 'fast', stream: true, messages: [{ role: 'user', content: 'hello' }] });
      for await (const part of s1) void part;
      fake.enqueue(stream([{ content: 'The start of a long answer' }], 'stop', undefined, true));
      const s2 = await gw.client.chat.completions.create({ model: 'fast', stream: true, messages: [{ role: 'user', content: 'hello again' }] });
      await expect(
        (async () => {
          for await (const part of s2) void part;
        })(),
      ).rejects.toThrow();
      await gw.app.gateway.ledger.flush();

      const { records } = (await (await admin(gw, '/admin/logs')).json()) as { records: Record<string, number | string>[] };
      expect(records.map((r) => [r.status, r.usage_source])).toEqual([
        [502, 'estimated'],
        [200, 'estimated'],
      ]);
      for (const r of records) {
        expect(r.prompt_tokens).toBeGreaterThan(0);
        expect(r.completion_tokens).toBeGreaterThan(0);
        expect(Math.round((r.cost_usd as number) * 1e9)).toBe((r.prompt_tokens as number) * FAST.input + (r.completion_tokens as number) * FAST.output);
      }
      const { totals } = (await (await admin(gw, '/admin/usage')).json()) as { totals: ReportRow };
      const sum = (field: string) => records.reduce((n, r) => n + (r[field] as number), 0);
      expect(totals).toMatchObject({ requests: 2, errors: 1, prompt_tokens: sum('prompt_tokens'), completion_tokens: sum('completion_tokens') });
      expect(Math.round(totals.cost_usd * 1e9)).toBe(sum('prompt_tokens') * FAST.input + sum('completion_tokens') * FAST.output);
    } finally {
      await gw.close();
      await fake.close();
    }
  });
});

describe('usage ledger: listeners', () => {
  it('calls onRecord listeners synchronously, before the answer is out, and survives a failing one', async () => {
    const gw = await startGateway({ providers: { demo: { type: 'mock' } }, models: [{ name: 'm', deployments: [{ provider: 'demo', model: 'mock-1' }] }] });
    try {
      const seen: LedgerRecord[] = [];
      gw.app.gateway.ledger.onRecord(() => {
        throw new Error('a listener bug');
      });
      const off = gw.app.gateway.ledger.onRecord((record) => seen.push(record));
      const r = await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-gateway-tags': 'budget' } }).withResponse();
      expect(seen).toEqual([
        expect.objectContaining({ id: r.response.headers.get('x-request-id'), status: 200, model: 'm', tags: ['budget'], prompt_tokens: r.data.usage!.prompt_tokens }),
      ]);
      off();
      await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'again' }] });
      expect(seen).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });
});
