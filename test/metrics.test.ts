/**
 * `GET /metrics`: Prometheus text fed by ledger records, checked over HTTP after real calls
 * (the offline mock provider and a fake OpenAI upstream that fails).
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { chatStatus } from './helpers/http.js';
import { GatewayMetrics, type KnownNames } from '../src/plugins/metrics.js';
import type { LedgerRecord } from '../src/usage/ledger.js';

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/;

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m || m[1] !== name) continue;
    const body = m[2] ?? '';
    if (want.every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let fake: FakeServer;
  let gw: TestGateway;
  let text: string;
  let contentType: string | null;
  const usage = { prompt: 0, completion: 0 };

  beforeAll(async () => {
    fake = await startFakeServer((_req, res: ServerResponse) => sendJson(res, 503, { error: { message: 'overloaded', type: 'server_error' } }));
    gw = await startGateway({
      providers: { demo: { type: 'mock' }, oa: { type: 'openai', api_key: 'sk-x', base_url: `${fake.url}/v1` } },
      models: [
        { name: 'm', deployments: [{ provider: 'demo', model: 'mock-1', price: { input: 1, output: 2 } }] },
        { name: 'flaky', retries: 0, deployments: [{ provider: 'oa', model: 'gpt-4o-mini' }] },
      ],
    });
    for (let i = 0; i < 2; i++) {
      const r = await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `hello ${i}` }] });
      usage.prompt += r.usage!.prompt_tokens;
      usage.completion += r.usage!.completion_tokens;
    }
    const s = await gw.client.chat.completions.create({ model: 'm', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream' }] });
    for await (const part of s) {
      if (part.usage) {
        usage.prompt += part.usage.prompt_tokens;
        usage.completion += part.usage.completion_tokens;
      }
    }
    await expect(gw.client.chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 502 });
    await gw.client.chat.completions.create({ model: 'demo/any-model', messages: [{ role: 'user', content: 'x' }] });
    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    contentType = res.headers.get('content-type');
    text = await res.text();
  });

  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  it('is valid Prometheus text: every sample parses, every family has one HELP and one TYPE', () => {
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = new Map<string, { help: number; type: number }>();
    for (const line of text.trimEnd().split('\n')) {
      const meta = /^# (HELP|TYPE) (\S+) /.exec(line);
      if (meta) {
        const entry = families.get(meta[2]!) ?? { help: 0, type: 0 };
        if (meta[1] === 'HELP') entry.help++;
        else entry.type++;
        families.set(meta[2]!, entry);
        continue;
      }
      expect(line).toMatch(SAMPLE);
      const name = SAMPLE.exec(line)![1]!.replace(/_(bucket|sum|count)$/, '');
      expect(families.has(name) || families.has(SAMPLE.exec(line)![1]!), line).toBe(true);
    }
    for (const [name, entry] of families) expect(entry, name).toEqual({ help: 1, type: 1 });
  });

  it('counts requests, tokens and cost per model group and provider', () => {
    expect(sample(text, 'konnect_requests_total', { route: 'chat', model: 'm', provider: 'demo', status: '200' })).toBe(3);
    expect(sample(text, 'konnect_requests_total', { model: 'flaky', provider: 'oa', status: '502' })).toBe(1);
    expect(sample(text, 'konnect_tokens_total', { model: 'm', type: 'prompt' })).toBe(usage.prompt);
    expect(sample(text, 'konnect_tokens_total', { model: 'm', type: 'completion' })).toBe(usage.completion);
    expect(sample(text, 'konnect_cost_usd_total', { model: 'm', provider: 'demo' })).toBe((usage.prompt * 1000 + usage.completion * 2000) / 1e9);
  });

  it('has latency and time-to-first-token histograms with cumulative buckets', () => {
    const labels = { route: 'chat', model: 'm', provider: 'demo' };
    expect(sample(text, 'konnect_request_duration_seconds_count', labels)).toBe(3);
    expect(sample(text, 'konnect_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(3);
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith('konnect_request_duration_seconds_bucket{route="chat",model="m",provider="demo"'))
      .map((l) => Number(l.split(' ')[1]));
    expect(buckets.length).toBeGreaterThan(5);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
    expect(sample(text, 'konnect_request_duration_seconds_sum', labels)).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'konnect_ttft_seconds_count', { model: 'm', provider: 'demo' })).toBe(1);
  });

  it('counts upstream errors by provider and code', () => {
    expect(sample(text, 'konnect_upstream_errors_total', { provider: 'oa', code: 'upstream_error' })).toBe(1);
  });

  it('reports the ledger queue and write failures', () => {
    expect(sample(text, 'konnect_ledger_queue_depth')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'konnect_ledger_write_failures_total')).toBe(0);
    expect(sample(text, 'konnect_ledger_store_up')).toBe(1);
  });

  it('counts a direct provider/model under the provider, not under the name the client made up', () => {
    expect(sample(text, 'konnect_requests_total', { route: 'chat', model: 'demo/*', provider: 'demo', status: '200' })).toBe(1);
    expect(text).not.toContain('any-model');
  });
});

const base: LedgerRecord = {
  id: 'r',
  client_request_id: null,
  time: 0,
  key_id: null,
  team: null,
  route: 'chat',
  model: 'm',
  provider: 'p',
  upstream_model: 'u',
  prompt_tokens: 1,
  completion_tokens: 1,
  cached_tokens: 0,
  usage_source: 'reported',
  cost_nano_usd: 1,
  price_known: true,
  latency_ms: 5,
  ttft_ms: null,
  status: 200,
  attempts: 1,
  tags: [],
  cache_hit: false,
};

const knowsAll: KnownNames = { isGroup: () => true, isProvider: () => true, isRoute: () => true };

describe('metric labels', () => {
  it('escapes label values', () => {
    const metrics = new GatewayMetrics(knowsAll);
    metrics.observe({ ...base, model: 'we"ird\\name' });
    expect(metrics.render()).toContain('model="we\\"ird\\\\name"');
  });

  it('takes only names the config defines: anything else is unknown', () => {
    const known: KnownNames = {
      isGroup: (name) => name === 'm',
      isProvider: (name) => name === 'p',
      isRoute: (route) => route === 'chat' || route === 'prompt:greet',
    };
    const metrics = new GatewayMetrics(known);
    metrics.observe(base);
    metrics.observe({ ...base, model: 'p/made-up-1', route: 'prompt:made-up', provider: 'elsewhere' });
    metrics.observe({ ...base, model: 'nobody/x', route: 'prompt:greet', provider: null, status: 404 });
    metrics.observe({ ...base, model: null, provider: null, status: 401 });
    const text = metrics.render();
    expect(sample(text, 'konnect_requests_total', { route: 'chat', model: 'm', provider: 'p', status: '200' })).toBe(1);
    expect(sample(text, 'konnect_requests_total', { route: 'unknown', model: 'p/*', provider: 'unknown', status: '200' })).toBe(1);
    expect(sample(text, 'konnect_requests_total', { route: 'prompt:greet', model: 'unknown', provider: '', status: '404' })).toBe(1);
    expect(sample(text, 'konnect_requests_total', { route: 'chat', model: '', provider: '', status: '401' })).toBe(1);
    expect(text).not.toMatch(/made-up|nobody|elsewhere/);
  });
});

describe('refused traffic and the series cap', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      providers: { demo: { type: 'mock' } },
      models: [{ name: 'm', deployments: [{ provider: 'demo', model: 'mock-1' }] }],
      prompts: { dir: '/nonexistent-prompts-dir' },
    });
  });
  afterAll(() => gw?.close());

  it('2,000 anonymous 404s with made-up model names leave one series, and real ones intact', async () => {
    const post = (model: string) => chatStatus(gw, model);
    for (let i = 0; i < 2000; i += 50) {
      const statuses = await Promise.all(Array.from({ length: 50 }, (_, j) => post(j % 2 ? `bogus-${i + j}` : `nobody/bogus-${i + j}`)));
      expect(new Set(statuses)).toEqual(new Set([404]));
    }
    expect(await post('m')).toBe(200);
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const series = text.split('\n').filter((line) => line.startsWith('konnect_requests_total{'));
    expect(series).toHaveLength(2);
    expect(sample(text, 'konnect_requests_total', { route: 'chat', model: 'unknown', provider: '', status: '404' })).toBe(2000);
    expect(sample(text, 'konnect_requests_total', { route: 'chat', model: 'm', provider: 'demo', status: '200' })).toBe(1);
    expect(text).not.toMatch(/bogus|_other/);
  }, 60_000);
});

describe('metrics series bound', () => {
  it('folds label sets past the cap into _other (a config with thousands of groups)', () => {
    const metrics = new GatewayMetrics(knowsAll);
    for (let i = 0; i < 2500; i++) metrics.observe({ ...base, model: `direct/model-${i}` });
    const lines = metrics.render().split('\n').filter((l) => l.startsWith('konnect_requests_total{'));
    expect(lines.length).toBe(2001);
    expect(sample(metrics.render(), 'konnect_requests_total', { model: '_other' })).toBe(500);
  });
});
