/**
 * One contract for the ledger stores, run against the memory store and a real Redis
 * (127.0.0.1:6379, a key prefix of its own, cleaned up afterwards). Fails when Redis is absent.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore, UsageRow } from '../src/usage/ledger-store.js';
import type { LedgerRecord } from '../src/usage/ledger.js';
import { MemoryLedgerStore } from '../src/usage/memory-store.js';
import { RedisLedgerStore } from '../src/usage/redis-store.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const H = 3_600_000;
/** 2025-03-10T00:00:00Z, a Monday. */
const T0 = Date.UTC(2025, 2, 10);

let seq = 0;
function record(fields: Partial<LedgerRecord> = {}): LedgerRecord {
  seq++;
  return {
    id: `req-${seq}`,
    client_request_id: null,
    time: T0 + 10 * 60_000,
    key_id: 'key_a',
    team: 'team-a',
    route: 'chat',
    model: 'fast',
    provider: 'openai',
    upstream_model: 'gpt-4o-mini',
    prompt_tokens: 100,
    completion_tokens: 20,
    cached_tokens: 0,
    usage_source: 'reported',
    cost_nano_usd: 27_000,
    price_known: true,
    latency_ms: 120,
    ttft_ms: null,
    status: 200,
    attempts: 1,
    tags: [],
    cache_hit: false,
    ...fields,
  };
}

function byDims(rows: UsageRow[]): Record<string, UsageRow['counters']> {
  return Object.fromEntries(rows.map((row) => [Object.values(row.dims).join('|'), row.counters]));
}

const prefixes: string[] = [];
const cleanup = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });

afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
  await cleanup.quit();
});

interface StoreFactory {
  name: string;
  make(options: { logMaxRecords?: number }): LedgerStore;
}

const factories: StoreFactory[] = [
  { name: 'memory', make: (o) => new MemoryLedgerStore({ logMaxRecords: o.logMaxRecords ?? 1000 }) },
  {
    name: 'redis',
    make: (o) => {
      const prefix = uniquePrefix('ledger-store');
      prefixes.push(prefix);
      return new RedisLedgerStore(new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }), {
        prefix,
        logMaxRecords: o.logMaxRecords ?? 1000,
        logRetentionDays: 30,
        usageRetentionDays: 400,
        dedupeTtlS: 3600,
      });
    },
  },
];

describe.each(factories)('ledger store contract: $name', (factory) => {
  let store: LedgerStore;
  const open: LedgerStore[] = [];
  const make = (options: { logMaxRecords?: number } = {}) => {
    const made = factory.make(options);
    open.push(made);
    return made;
  };

  beforeEach(() => {
    store = make();
    return async () => {
      for (const s of open.splice(0)) await s.close();
    };
  });

  it('sums every counter exactly, grouped by any dimensions', async () => {
    await store.write({
      id: 'b1',
      records: [
        record({ prompt_tokens: 1000, completion_tokens: 200, cached_tokens: 300, cost_nano_usd: 123_456_789, latency_ms: 100 }),
        record({ prompt_tokens: 7, completion_tokens: 3, cost_nano_usd: 1, latency_ms: 301, ttft_ms: 40, cache_hit: true, saved_cost_nano_usd: 4321 }),
        record({ team: 'team-b', key_id: 'key_b', model: 'smart', provider: 'anthropic', upstream_model: 'claude-3-5-haiku', status: 502, error_code: 'upstream_error', prompt_tokens: 0, completion_tokens: 0, cost_nano_usd: 0, latency_ms: 50 }),
        record({ team: null, key_id: null, route: 'embeddings', model: 'embed', upstream_model: 'text-embedding-3-small', prompt_tokens: 12, completion_tokens: 0, cost_nano_usd: 240, latency_ms: 9, ttft_ms: null }),
      ],
    });
    const all = await store.usage({ from: T0, to: T0 + H, groupBy: [] });
    expect(all).toEqual([
      {
        dims: {},
        counters: {
          requests: 4,
          errors: 1,
          prompt_tokens: 1019,
          completion_tokens: 203,
          cached_tokens: 300,
          cost_nano_usd: 123_457_030,
          latency_ms_sum: 460,
          ttft_ms_sum: 40,
          ttft_count: 1,
          cache_hits: 1,
          saved_cost_nano_usd: 4321,
          // Buckets of 1.2^i ms: 100 ms → 26, 301 → 32, 50 → 22, 9 → 13, 40 → 21.
          latency_hist: new Map([
            [26, 1],
            [32, 1],
            [22, 1],
            [13, 1],
          ]),
          ttft_hist: new Map([[21, 1]]),
        },
      },
    ]);

    const byTeam = byDims(await store.usage({ from: T0, to: T0 + H, groupBy: ['team'] }));
    expect(Object.keys(byTeam).sort()).toEqual(['', 'team-a', 'team-b']);
    expect(byTeam['team-a']).toMatchObject({ requests: 2, prompt_tokens: 1007, cost_nano_usd: 123_456_790 });
    expect(byTeam['team-b']).toMatchObject({ requests: 1, errors: 1 });

    const rows = await store.usage({ from: T0, to: T0 + H, groupBy: ['provider', 'upstream_model', 'route', 'key', 'model'] });
    expect(rows.map((r) => r.dims)).toEqual(
      expect.arrayContaining([
        { provider: 'openai', upstream_model: 'gpt-4o-mini', route: 'chat', key: 'key_a', model: 'fast' },
        { provider: 'anthropic', upstream_model: 'claude-3-5-haiku', route: 'chat', key: 'key_b', model: 'smart' },
        { provider: 'openai', upstream_model: 'text-embedding-3-small', route: 'embeddings', key: null, model: 'embed' },
      ]),
    );
    expect(rows).toHaveLength(3);
  });

  it('buckets by UTC hour and day, and reads only buckets that overlap the range', async () => {
    await store.write({
      id: 'hours',
      records: [
        record({ time: T0 - 1 }), // 2025-03-09T23
        record({ time: T0 + 5 }), // 2025-03-10T00
        record({ time: T0 + H + 5 }), // 2025-03-10T01
        record({ time: T0 + H + 59 * 60_000 }),
        record({ time: T0 + 30 * H }), // 2025-03-11T06
      ],
    });
    const hours = await store.usage({ from: T0 - 2 * H, to: T0 + 48 * H, groupBy: ['hour'] });
    expect(Object.fromEntries(hours.map((r) => [r.dims.hour, r.counters.requests]))).toEqual({
      '2025-03-09T23:00:00Z': 1,
      '2025-03-10T00:00:00Z': 1,
      '2025-03-10T01:00:00Z': 2,
      '2025-03-11T06:00:00Z': 1,
    });
    const days = await store.usage({ from: T0 - 2 * H, to: T0 + 48 * H, groupBy: ['day', 'team'] });
    expect(Object.fromEntries(days.map((r) => [r.dims.day, r.counters.requests]))).toEqual({ '2025-03-09': 1, '2025-03-10': 3, '2025-03-11': 1 });
    expect(days.every((r) => r.dims.team === 'team-a')).toBe(true);

    // [00:30, 01:30) overlaps the 00 and 01 buckets; `to` is exclusive at an hour boundary.
    const window = await store.usage({ from: T0 + H / 2, to: T0 + H + H / 2, groupBy: [] });
    expect(window[0]?.counters.requests).toBe(3);
    const exact = await store.usage({ from: T0, to: T0 + H, groupBy: [] });
    expect(exact[0]?.counters.requests).toBe(1);
    expect(await store.usage({ from: T0 + 2 * H, to: T0 + 20 * H, groupBy: [] })).toEqual([]);
  });

  it('counts a batch id once, however often it is written', async () => {
    const batch = { id: 'replayed', records: [record({ id: 'once-1' }), record({ id: 'once-2' })] };
    await store.write(batch);
    await store.write(batch);
    await store.write({ ...batch });
    await store.write({ id: 'other', records: [record({ id: 'once-3' })] });
    const [row] = await store.usage({ from: T0, to: T0 + H, groupBy: [] });
    expect(row?.counters.requests).toBe(3);
    const logs = await store.logs({ limit: 100 });
    expect(logs.map((r) => r.id).sort()).toEqual(['once-1', 'once-2', 'once-3']);
  });

  it('keeps the request log most recently recorded first, with filters', async () => {
    await store.write({
      id: 'log',
      records: [
        record({ id: 'a', time: T0 + 1000, status: 200 }),
        record({ id: 'c', time: T0 + 2000, status: 502, model: 'smart', upstream_model: 'claude-x' }),
        record({ id: 'b', time: T0 + 3000, status: 429, key_id: 'key_b', error_code: 'upstream_rate_limited' }),
        record({ id: 'd', time: T0 + 4000, status: 200, tags: ['batch', 'eu'], ttft_ms: 12 }),
      ],
    });
    const all = await store.logs({ limit: 10 });
    expect(all.map((r) => r.id)).toEqual(['d', 'b', 'c', 'a']);
    expect(all[0]).toEqual(record({ id: 'd', time: T0 + 4000, status: 200, tags: ['batch', 'eu'], ttft_ms: 12 }));
    expect((await store.logs({ limit: 2 })).map((r) => r.id)).toEqual(['d', 'b']);
    expect((await store.logs({ limit: 10, keyId: 'key_b' })).map((r) => r.id)).toEqual(['b']);
    expect((await store.logs({ limit: 10, model: 'smart' })).map((r) => r.id)).toEqual(['c']);
    expect((await store.logs({ limit: 10, model: 'claude-x' })).map((r) => r.id)).toEqual(['c']);
    expect((await store.logs({ limit: 10, status: { exact: 429 } })).map((r) => r.id)).toEqual(['b']);
    expect((await store.logs({ limit: 10, status: { class: 5 } })).map((r) => r.id)).toEqual(['c']);
    expect((await store.logs({ limit: 10, since: T0 + 2000 })).map((r) => r.id)).toEqual(['d', 'b', 'c']);
  });

  it('caps the request log and keeps the newest', async () => {
    const capped = make({ logMaxRecords: 100 });
    for (let b = 0; b < 10; b++) {
      await capped.write({ id: `cap-${b}`, records: Array.from({ length: 100 }, (_, i) => record({ id: `cap-${b}-${i}`, time: T0 + b * 100 + i })) });
    }
    const kept = await capped.logs({ limit: 1000 });
    // Redis trims with MAXLEN ~ (whole stream nodes), so a little more than the cap may stay.
    expect(kept.length).toBeGreaterThanOrEqual(100);
    expect(kept.length).toBeLessThan(1000);
    expect(kept.slice(0, 100).map((r) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => `cap-9-${99 - i}`));
    // Aggregates are not capped with the log.
    const [row] = await capped.usage({ from: T0, to: T0 + H, groupBy: [] });
    expect(row?.counters.requests).toBe(1000);
  });

  it('stays exact for large integer sums', async () => {
    const big = 9_000_000_000_000; // 9,000 USD in nano-USD per record
    await store.write({ id: 'big', records: Array.from({ length: 50 }, () => record({ cost_nano_usd: big, prompt_tokens: 2_000_000 })) });
    const [row] = await store.usage({ from: T0, to: T0 + H, groupBy: [] });
    expect(row?.counters.cost_nano_usd).toBe(big * 50);
    expect(row?.counters.prompt_tokens).toBe(100_000_000);
  });

  it('reports itself up', () => {
    if (factory.name === 'redis') return expect.poll(() => store.isUp()).toBe(true);
    expect(store.isUp()).toBe(true);
  });
});

describe('memory store retention', () => {
  it('drops hour buckets older than the retention when a new bucket opens', async () => {
    const store = new MemoryLedgerStore({ usageRetentionDays: 1 });
    const now = Date.now();
    await store.write({ id: 'old', records: [record({ time: now - 3 * 86_400_000 })] });
    await store.write({ id: 'new', records: [record({ time: now })] });
    const rows = await store.usage({ from: now - 5 * 86_400_000, to: now + H, groupBy: ['day'] });
    expect(rows.map((r) => r.counters.requests)).toEqual([1]);
    expect(rows[0]?.dims.day).toBe(new Date(now).toISOString().slice(0, 10));
  });
});

describe('redis store layout', () => {
  it('keeps every key under one cluster hash tag, with TTLs on usage buckets and batch ids', async () => {
    const prefix = uniquePrefix('ledger-store');
    prefixes.push(prefix);
    const store = new RedisLedgerStore(new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }), {
      prefix,
      logMaxRecords: 1000,
      logRetentionDays: 30,
      usageRetentionDays: 2,
      dedupeTtlS: 600,
    });
    await store.write({ id: 'layout', records: [record({ time: Date.now(), tags: ['eu'] }), record({ time: Date.now() - 3 * H })] });
    const keys = (await cleanup.keys(`${prefix}*`)).sort();
    // seen, log, and per hour a per-call hash and a per-tag hash; the tagged hour also a tag set.
    expect(keys.length).toBe(7);
    for (const key of keys) expect(key.startsWith(`${prefix}{ledger}:`)).toBe(true);
    for (const key of keys.filter((k) => /:(h|t|tags):/.test(k))) {
      const ttl = await cleanup.ttl(key);
      expect(ttl).toBeGreaterThan(2 * 86_400 - 60);
      expect(ttl).toBeLessThanOrEqual(2 * 86_400);
    }
    const seenTtl = await cleanup.ttl(`${prefix}{ledger}:seen:layout`);
    expect(seenTtl).toBeGreaterThan(500);
    await store.close();
  });
});
