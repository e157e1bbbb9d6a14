/**
 * Storms of made-up names against gateways on the shared Redis: 300 anonymous chat calls whose
 * model is `fake/<uuid>-<100 KB>` and 200 unauthenticated calls to 15 KB prompt paths. What
 * they leave in Redis (ledger hashes, log, limits) stays small, and `/metrics` stays small and
 * valid: no caller's name is stored or labelled.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessConfig } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/;

const prefix = uniquePrefix('storm');
let redis: Redis;
let open: TestGateway;
let keyed: TestGateway;

/** Bytes Redis uses for every key under the suite's prefix (`MEMORY USAGE`, all samples). */
async function prefixBytes(): Promise<number> {
  let cursor = '0';
  let bytes = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) bytes += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  } while (cursor !== '0');
  return bytes;
}

async function flush(): Promise<void> {
  await open.app.gateway.ledger.flush();
  await keyed.app.gateway.ledger.flush();
}

/** `count` requests, `width` at a time; answers the statuses seen. */
async function storm(count: number, width: number, send: (i: number) => Promise<Response>): Promise<Set<number>> {
  const statuses = new Set<number>();
  for (let i = 0; i < count; i += width) {
    await Promise.all(
      Array.from({ length: Math.min(width, count - i) }, async (_, j) => {
        const res = await send(i + j);
        await res.arrayBuffer();
        statuses.add(res.status);
      }),
    );
  }
  return statuses;
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  // The ledger's log keeps every record: at the default cap a storm's records are what it holds.
  open = await startGateway(accessConfig({ prefix, requireKeys: false }));
  keyed = await startGateway(accessConfig({ prefix, requireKeys: true }));
});

afterAll(async () => {
  await open?.close();
  await keyed?.close();
  await redis?.quit();
  await dropPrefix(prefix);
});

describe('storms of made-up names', () => {
  it('leave Redis and /metrics small', async () => {
    await flush();
    const before = await prefixBytes();
    const pad = 'x'.repeat(100 * 1024);
    const models = await storm(300, 10, () =>
      fetch(`${open.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: `fake/${randomUUID()}-${pad}`, messages: [{ role: 'user', content: 'hi' }] }),
      }),
    );
    const name = 'p'.repeat(15 * 1024);
    const prompts = await storm(200, 10, (i) =>
      fetch(`${keyed.url}/prompts/${name}${i}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    );
    expect([...models]).toEqual([400]);
    expect([...prompts]).toEqual([401]);
    await flush();

    const grown = (await prefixBytes()) - before;
    // 500 records of a few hundred bytes each in the ledger's log and hour hashes; the storm
    // before the fix left over 130 MB here.
    expect(grown).toBeLessThan(2 * 1024 * 1024);
    const stored = await redis.xrevrange(`${prefix}{ledger}:log`, '+', '-', 'COUNT', 500);
    const records = stored.map(([, fields]) => JSON.parse(fields[1]!) as { model: string | null; route: string });
    expect(records).toHaveLength(500);
    expect(new Set(records.map((r) => `${r.route} ${r.model}`))).toEqual(new Set(['chat unknown', 'prompt:unknown null']));

    const res = await fetch(`${open.url}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text.length).toBeLessThan(200 * 1024);
    for (const line of text.trimEnd().split('\n')) if (!line.startsWith('#')) expect(line).toMatch(SAMPLE);
    expect(text).toContain('konnect_requests_total{route="chat",model="unknown",provider="",status="400"} 300');
  });
});
