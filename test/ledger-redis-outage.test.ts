/**
 * The ledger loses nothing when Redis goes away: a Redis of this suite's own (a child
 * `redis-server` on a free port, AOF fsync'd on every write so a SIGKILL loses no
 * acknowledged write) is killed in the middle of traffic and started again; a gateway
 * restart keeps the totals; records spooled at shutdown are replayed at the next start; a
 * hung Redis that applies a write after the ledger gave up on it does not count it twice.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { RedisProcess } from './helpers/redis-process.js';

const MASTER = 'mk-outage';
const PRICE = { input: 1, output: 2 }; // USD per 1M tokens: 1000 and 2000 nano-USD per token

interface Totals {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

describe('ledger across Redis outages', () => {
  let dir: string;
  let spoolDir: string;
  let redis: RedisProcess;
  let gw: TestGateway;
  /** Per answered call: request id and the usage the client was told. */
  const answered = new Map<string, { prompt: number; completion: number }>();

  const config = () => ({
    store: { redis_url: `redis://127.0.0.1:${redis.port}`, key_prefix: 'outage:' },
    auth: { master_key: MASTER },
    providers: { demo: { type: 'mock' } },
    models: [{ name: 'm', retries: 0, deployments: [{ provider: 'demo', model: 'mock-1', price: PRICE }] }],
    ledger: { flush_interval_ms: 50, write_timeout_ms: 500, spool_dir: spoolDir, batch_size: 20 },
  });

  async function call(stream = false): Promise<void> {
    const messages = [{ role: 'user' as const, content: `call ${answered.size}: say something` }];
    if (stream) {
      const s = await gw.client.chat.completions.create({ model: 'm', messages, stream: true, stream_options: { include_usage: true } }).withResponse();
      let usage: { prompt_tokens: number; completion_tokens: number } | undefined | null;
      for await (const part of s.data) if (part.usage) usage = part.usage;
      answered.set(s.response.headers.get('x-request-id')!, { prompt: usage!.prompt_tokens, completion: usage!.completion_tokens });
      return;
    }
    const r = await gw.client.chat.completions.create({ model: 'm', messages }).withResponse();
    answered.set(r.response.headers.get('x-request-id')!, { prompt: r.data.usage!.prompt_tokens, completion: r.data.usage!.completion_tokens });
  }

  async function traffic(n: number): Promise<void> {
    for (let i = 0; i < n; i += 4) await Promise.all([call(), call(true), call(), call(true)]);
  }

  async function admin<T>(path: string): Promise<T> {
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  }

  /** Flushes once Redis takes writes again (the ledger's connection may still be reconnecting). */
  async function flushWhenBack(): Promise<void> {
    await expect
      .poll(
        () =>
          gw.app.gateway.ledger.flush().then(
            () => true,
            () => false,
          ),
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);
  }

  function expectedTotals(): Totals {
    let prompt = 0;
    let completion = 0;
    for (const u of answered.values()) {
      prompt += u.prompt;
      completion += u.completion;
    }
    return { requests: answered.size, errors: 0, prompt_tokens: prompt, completion_tokens: completion, cost_usd: (prompt * 1000 + completion * 2000) / 1e9 };
  }

  /** Every answered call is in the ledger exactly once, in the aggregates and in the log. */
  async function expectLedgerExact(): Promise<void> {
    const { totals } = await admin<{ totals: Totals }>('/admin/usage');
    expect(totals).toMatchObject(expectedTotals());
    const { records } = await admin<{ records: { id: string }[] }>('/admin/logs?limit=1000');
    const ids = records.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([...answered.keys()].sort());
  }

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ')[1]);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'konnect-outage-'));
    spoolDir = join(dir, 'spool');
    redis = new RedisProcess(await freePort(), dir);
    await redis.start();
    gw = await startGateway(config());
  });

  afterAll(async () => {
    redis?.resume();
    await gw?.close();
    await redis?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every call while Redis is killed and restarted, and records each exactly once', async () => {
    await traffic(20);
    await redis.kill();
    // Redis is gone: calls are still answered, the ledger buffers.
    await traffic(40);
    await expect.poll(() => metric('konnect_ledger_write_failures_total')).toBeGreaterThan(0);
    expect(await metric('konnect_ledger_queue_depth')).toBeGreaterThan(0);
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { store: unknown };
    expect(health.store).toEqual({ type: 'redis', status: 'down' });
    // Reports cannot be read meanwhile: a clean 503, not a hang.
    const report = await fetch(`${gw.url}/admin/usage`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(report.status).toBe(503);
    expect(await report.json()).toEqual({ error: { message: expect.any(String), type: 'api_error', param: null, code: 'service_unavailable' } });

    await redis.start();
    await traffic(20);
    await flushWhenBack();
    expect(await metric('konnect_ledger_queue_depth')).toBe(0);
    expect(answered.size).toBe(80);
    await expectLedgerExact();
    await expect.poll(async () => ((await (await fetch(`${gw.url}/health`)).json()) as { store: unknown }).store).toEqual({ type: 'redis', status: 'ok' });
  });

  it('keeps the totals across a gateway restart', async () => {
    const before = await admin<{ totals: Totals }>('/admin/usage');
    await gw.close();
    gw = await startGateway(config());
    const after = await admin<{ totals: Totals }>('/admin/usage');
    expect(after.totals).toEqual(before.totals);
    await expectLedgerExact();
  });

  it('spools records at shutdown while Redis is down and replays them at the next start', async () => {
    await traffic(8);
    await redis.kill();
    await traffic(12);
    await gw.close();
    const files = await readdir(spoolDir);
    expect(files.filter((f) => f.endsWith('.ndjson'))).toHaveLength(1);

    await redis.start();
    gw = await startGateway(config());
    await flushWhenBack();
    expect(await metric('konnect_ledger_records_replayed_total')).toBeGreaterThanOrEqual(12);
    await expectLedgerExact();
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('spills past a full buffer to the spool and writes it back when Redis returns', async () => {
    await gw.close();
    gw = await startGateway({ ...config(), ledger: { ...config().ledger, buffer_max: 5 } });
    // Warm: the access stage caches the client's (unknown) key, so calls pass while Redis is gone.
    await traffic(4);
    await redis.kill();
    await traffic(24);
    await expect.poll(() => metric('konnect_ledger_records_spooled_total')).toBeGreaterThan(0);
    expect(await metric('konnect_ledger_queue_depth')).toBeLessThanOrEqual(5 + 20);
    await redis.start();
    await flushWhenBack();
    expect(await metric('konnect_ledger_records_replayed_total')).toBe(await metric('konnect_ledger_records_spooled_total'));
    expect(await metric('konnect_ledger_records_dropped_total')).toBe(0);
    await expectLedgerExact();
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('does not count twice a write that a hung Redis applied after the ledger gave up on it', async () => {
    const failuresBefore = await metric('konnect_ledger_write_failures_total');
    redis.pause();
    try {
      await traffic(8);
      // Each batch write times out (500 ms) while the command waits in Redis's socket buffer.
      await expect.poll(() => metric('konnect_ledger_write_failures_total'), { timeout: 10_000 }).toBeGreaterThan(failuresBefore);
    } finally {
      redis.resume();
    }
    await flushWhenBack();
    await expectLedgerExact();
  });
});
