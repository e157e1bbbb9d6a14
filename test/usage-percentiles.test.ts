/**
 * Latency percentiles from the hourly histograms, and the Prometheus histograms of `/metrics`.
 * Calls go through the gateway to mock providers of different latencies; the exact percentiles
 * come from the latencies `/admin/logs` shows. A report may differ from them by one bucket:
 * it gives the bucket's upper bound, at most 1.2 × the exact value (docs/cost-reports.md).
 * The store suite adds latencies no HTTP test could wait for (up to an hour), written straight
 * into the memory and Redis stores.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../src/usage/memory-store.js';
import { RedisLedgerStore } from '../src/usage/redis-store.js';
import type { LedgerStore } from '../src/usage/ledger-store.js';
import type { LedgerRecord } from '../src/usage/ledger.js';
import { buildUsageReport } from '../src/usage/usage-report.js';
import type { TestGateway } from './helpers/gateway.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { adminJson, allLogs, chat, recordsAfter, startUsageGateway, type LogEntry, type ReportRow, type UsageReport } from './helpers/usage.js';

/** The nearest-rank percentile: the smallest value with at least p of all values at or below it. */
function exactPercentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}

/** A reported percentile is the upper bound of the exact one's bucket: not below it, at most one bucket (×1.2) above. */
function expectWithinOneBucket(reported: unknown, values: readonly number[], p: number, what: string): void {
  const exact = exactPercentile(values, p);
  expect(typeof reported, what).toBe('number');
  expect(reported as number, `${what}: exact ${exact}`).toBeGreaterThanOrEqual(exact);
  expect(reported as number, `${what}: exact ${exact}`).toBeLessThanOrEqual(Math.max(exact, 1) * 1.2 + 0.1);
}

function expectPercentiles(row: ReportRow | undefined, entries: readonly LogEntry[], what: string): void {
  const latencies = entries.map((e) => e.latency_ms);
  expectWithinOneBucket(row?.latency_ms_p50, latencies, 0.5, `${what} p50`);
  expectWithinOneBucket(row?.latency_ms_p95, latencies, 0.95, `${what} p95`);
  expectWithinOneBucket(row?.latency_ms_p99, latencies, 0.99, `${what} p99`);
  const ttfts = entries.flatMap((e) => (e.ttft_ms === null ? [] : [e.ttft_ms]));
  if (ttfts.length === 0) {
    expect(row?.ttft_ms_p50, what).toBeNull();
    return;
  }
  expectWithinOneBucket(row?.ttft_ms_p50, ttfts, 0.5, `${what} ttft p50`);
  expectWithinOneBucket(row?.ttft_ms_p95, ttfts, 0.95, `${what} ttft p95`);
}

const LATENCIES = { instant: 0, quick: 4, slow: 15, slower: 40 } as const;
const providers = Object.fromEntries(Object.entries(LATENCIES).map(([name, ms]) => [name, { type: 'mock', latency_ms: ms, chunk_delay_ms: 1 }]));
const models = Object.keys(LATENCIES).map((name) => ({ name, deployments: [{ provider: name, model: `mock-${name}` }] }));

/** 9 plain and 2 streamed calls per model, plus one the gateway refuses. */
async function driveCalls(gw: TestGateway): Promise<number> {
  let count = 0;
  for (let round = 0; round < 11; round++) {
    for (const model of Object.keys(LATENCIES)) {
      await chat(gw, { model, stream: round >= 9, tags: round % 2 === 0 ? 'even' : 'odd' });
      count++;
    }
  }
  await chat(gw, { model: 'nope' });
  return count + 1;
}

const stores = [
  { name: 'memory', prefix: () => undefined, instances: 1 },
  { name: 'redis', prefix: () => uniquePrefix('usage-pct'), instances: 2 },
];

describe.each(stores)('latency percentiles over HTTP ($name store)', ({ prefix: makePrefix, instances }) => {
  const prefix = makePrefix();
  const gateways: TestGateway[] = [];
  let logs: LogEntry[];
  const calls: number[] = [];

  beforeAll(async () => {
    // On Redis two instances write the same hour: their histograms merge by addition.
    for (let i = 0; i < instances; i++) gateways.push(await startUsageGateway({ prefix, providers, models }));
    await Promise.all(
      gateways.map(async (gw) => {
        const settled = recordsAfter(gw, 45);
        calls.push(await driveCalls(gw));
        await settled.done;
      }),
    );
    logs = await allLogs(gateways[0]!);
    expect(logs).toHaveLength(calls.reduce((a, b) => a + b, 0));
  });

  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    if (prefix) await dropPrefix(prefix);
  });

  it('reports p50/p95/p99 latency and p50/p95 TTFT within one bucket of the exact values', async () => {
    const total = await adminJson<UsageReport>(gateways[0]!, '/admin/usage');
    expect(total.totals.requests).toBe(logs.length);
    expectPercentiles(total.totals, logs, 'all calls');
    const byModel = await adminJson<UsageReport>(gateways[0]!, '/admin/usage?group_by=model');
    for (const model of [...Object.keys(LATENCIES), 'unknown']) {
      expectPercentiles(
        byModel.rows.find((r) => r.model === model),
        logs.filter((e) => e.model === model),
        model,
      );
    }
    // The slow group's median is far above the instant one's: the histograms are per group.
    const p50 = (model: string) => Number(byModel.rows.find((r) => r.model === model)?.latency_ms_p50);
    expect(p50('slower')).toBeGreaterThan(p50('instant'));
  });

  it('keeps percentiles per tag and under filters', async () => {
    const byTag = await adminJson<UsageReport>(gateways[0]!, '/admin/usage?group_by=tag');
    for (const tag of ['even', 'odd']) {
      expectPercentiles(
        byTag.rows.find((r) => r.tag === tag),
        logs.filter((e) => e.tags.includes(tag)),
        tag,
      );
    }
    const slowStreams = await adminJson<UsageReport>(gateways[0]!, '/admin/usage?model=slower&tag=odd');
    expectPercentiles(
      slowStreams.totals,
      logs.filter((e) => e.model === 'slower' && e.tags.includes('odd')),
      'slower, odd',
    );
  });

  it('exposes Prometheus histograms whose counts equal the calls', async () => {
    // Each instance counts its own calls.
    const text = await (await fetch(`${gateways[0]!.url}/metrics`)).text();
    const own = logs.length / instances;
    let latencyCount = 0;
    let ttftCount = 0;
    for (const family of ['konnect_request_duration_seconds', 'konnect_ttft_seconds']) {
      const series = parseHistograms(text, family);
      expect(series.size, family).toBeGreaterThan(0);
      for (const [labels, h] of series) {
        // Buckets are cumulative, end at +Inf, and +Inf equals _count.
        expect(h.buckets.at(-1)?.[0], labels).toBe('+Inf');
        for (let i = 1; i < h.buckets.length; i++) expect(h.buckets[i]![1]).toBeGreaterThanOrEqual(h.buckets[i - 1]![1]);
        expect(h.buckets.at(-1)?.[1], labels).toBe(h.count);
        expect(h.sum, labels).toBeGreaterThanOrEqual(0);
        // Labels are the bounded ones: configured groups, providers, routes, or unknown/empty.
        expect(labels).toMatch(/^route="(chat|unknown)",model="(instant|quick|slow|slower|unknown)",provider="(instant|quick|slow|slower|)"$/);
        if (family === 'konnect_request_duration_seconds') latencyCount += h.count;
        else ttftCount += h.count;
      }
    }
    expect(latencyCount).toBe(own);
    expect(ttftCount).toBe(logs.filter((e) => e.ttft_ms !== null).length / instances);
    const slower = parseHistograms(text, 'konnect_request_duration_seconds').get('route="chat",model="slower",provider="slower"');
    expect(slower?.count).toBe(11);
  });
});

interface PromHistogram {
  buckets: Array<[le: string, cumulative: number]>;
  sum: number;
  count: number;
}

/** Histogram series of one family by their labels (without `le`), from the text exposition format. */
function parseHistograms(text: string, family: string): Map<string, PromHistogram> {
  const out = new Map<string, PromHistogram>();
  const get = (labels: string) => {
    let h = out.get(labels);
    if (!h) out.set(labels, (h = { buckets: [], sum: NaN, count: NaN }));
    return h;
  };
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || !m[1]!.startsWith(family)) continue;
    const [, name, labels, value] = m;
    if (name === `${family}_bucket`) {
      const le = /,?le="([^"]+)"$/.exec(labels!);
      expect(le, line).not.toBeNull();
      get(labels!.slice(0, le!.index)).buckets.push([le![1]!, Number(value)]);
    } else if (name === `${family}_sum`) get(labels!).sum = Number(value);
    else if (name === `${family}_count`) get(labels!).count = Number(value);
  }
  return out;
}

describe.each([
  { name: 'memory', make: () => ({ store: new MemoryLedgerStore() as LedgerStore, prefix: undefined }) },
  {
    name: 'redis',
    make: () => {
      const prefix = uniquePrefix('usage-pct-store');
      const store = new RedisLedgerStore(new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }), { prefix, logMaxRecords: 1000, logRetentionDays: 0, usageRetentionDays: 0, dedupeTtlS: 600 });
      return { store: store as LedgerStore, prefix };
    },
  },
])('percentiles of wide latencies ($name store)', ({ make }) => {
  const { store, prefix } = make();
  const T0 = Date.UTC(2025, 4, 5, 10);

  afterAll(async () => {
    await store.close();
    if (prefix) await dropPrefix(prefix);
  });

  it('stays within one bucket from 0 ms to over an hour, across batches and hours', async () => {
    // A skewed spread: many fast calls, a long tail, a few beyond the last bucket (1.2^83 ms ≈ 62 min).
    const latencies: number[] = [];
    for (let i = 0; i < 600; i++) latencies.push(Math.round(Math.exp((i % 97) / 7) - 1));
    latencies.push(600_000, 3_000_000, 5_000_000, 0, 1, 2);
    const records = latencies.map(
      (ms, i): LedgerRecord => ({
        id: `w-${i}`,
        client_request_id: null,
        time: T0 + (i % 2) * 3_600_000,
        key_id: null,
        team: null,
        route: 'chat',
        model: 'fast',
        provider: 'demo',
        upstream_model: 'mock',
        prompt_tokens: 1,
        completion_tokens: 1,
        cached_tokens: 0,
        usage_source: 'reported',
        cost_nano_usd: 0,
        price_known: true,
        latency_ms: ms,
        ttft_ms: i % 3 === 0 ? Math.round(ms / 3) : null,
        status: 200,
        attempts: 1,
        tags: [],
        cache_hit: false,
      }),
    );
    for (let at = 0; at < records.length; at += 100) await store.write({ id: `batch-${at}`, records: records.slice(at, at + 100) });
    // A replayed batch changes nothing.
    await store.write({ id: 'batch-0', records: records.slice(0, 100) });
    const range = { from: T0, to: T0 + 2 * 3_600_000, groupBy: [] };
    const report = buildUsageReport(await store.usage(range), range);
    expect(report.totals.requests).toBe(latencies.length);
    expectWithinOneBucket(report.totals.latency_ms_p50, latencies, 0.5, 'p50');
    expectWithinOneBucket(report.totals.latency_ms_p95, latencies, 0.95, 'p95');
    expectWithinOneBucket(report.totals.latency_ms_p99, latencies, 0.99, 'p99');
    const ttfts = records.flatMap((r) => (r.ttft_ms === null ? [] : [r.ttft_ms]));
    expectWithinOneBucket(report.totals.ttft_ms_p50, ttfts, 0.5, 'ttft p50');
    expectWithinOneBucket(report.totals.ttft_ms_p95, ttfts, 0.95, 'ttft p95');
  });
});
