/**
 * Money that cannot be overspent, moved or lost: admission reserves a call's worst-case cost
 * against every budget in the same atomic step as rpm/tpm; settlement replaces it with the real
 * cost through a durable path; a refused call leaves no trace. On the shared Redis and the
 * embedded store, and on a Redis of this suite's own that is killed and stalled mid-traffic.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countMessageTokens } from '../src/usage/count-tokens.js';
import { admin, createKey, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { RedisProcess } from './helpers/redis-process.js';
import { eventually } from './helpers/wait.js';

const prefix = uniquePrefix('budgets-reserved');
afterAll(() => dropPrefix(prefix));

const PROMPT = [{ role: 'user' as const, content: 'Say something short.' }];
/** $0.001 a token, in and out: a call's cost in nano-USD is its tokens × 1,000,000. */
const PRICE = { input: 1000, output: 1000 };
const MAX_TOKENS = 10;
/** What admission reserves for one call: its counted prompt and its output cap. */
const RESERVE_NANO = (countMessageTokens(PROMPT) + MAX_TOKENS) * 1_000_000;

function config(store: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    store,
    auth: { master_key: MASTER, require_keys: true },
    providers: { demo: { type: 'mock', chunk_delay_ms: 20 } },
    models: [
      { name: 'paid', retries: 0, deployments: [{ provider: 'demo', model: 'mock-paid', price: PRICE }] },
      { name: 'cheap', retries: 0, deployments: [{ provider: 'demo', model: 'mock-cheap', price: { input: 100, output: 100 } }] },
      { name: 'smart', retries: 0, budget_fallback: { group: 'cheap', threshold: 0.5 }, deployments: [{ provider: 'demo', model: 'mock-smart', price: PRICE }] },
    ],
    prompts: { dir: '/nonexistent-prompts-dir' },
    ...extra,
  };
}

async function streamCall(gw: TestGateway, key: string, model = 'paid'): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: PROMPT, max_tokens: MAX_TOKENS, stream: true }),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** The key's spend as the admin API shows it, and the sum of its ledger records, nano-USD. */
async function spendAndLedger(gw: TestGateway, keyId: string): Promise<{ spend: number; ledger: number; records: number }> {
  const key = await admin(gw.url, 'GET', `/admin/keys/${keyId}`);
  const logs = await admin(gw.url, 'GET', `/admin/logs?key=${keyId}&limit=1000`);
  const records = logs.body.records as Array<{ cost_usd: number }>;
  const ledger = records.reduce((sum, r) => sum + Math.round(r.cost_usd * 1e9), 0);
  return { spend: Math.round(key.body.spend_usd * 1e9), ledger, records: records.length };
}

describe.each([{ store: 'redis' }, { store: 'memory' }])('reservations on $store', ({ store }) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(config(store === 'redis' ? { redis_url: REDIS_URL, key_prefix: `${prefix}${store}:` } : {}));
  });
  afterAll(() => gw.close());

  it('admits 50 parallel streams on a budget for 5 only as far as their reservations fit', async () => {
    const budgetNano = 5 * RESERVE_NANO;
    const { id, key } = await createKey(gw.url, { name: 'five', budget_usd: budgetNano / 1e9 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => streamCall(gw, key)));
    const served = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(served.length + refused.length).toBe(50);
    expect(served.length).toBeGreaterThanOrEqual(5);
    // Five fit at once; one more can fit only where a stream already settled below its reservation.
    expect(served.length).toBeLessThanOrEqual(7);
    expect(refused.every((a) => a.text.includes('insufficient_quota'))).toBe(true);
    await eventually(async () => {
      const { spend, ledger, records } = await spendAndLedger(gw, id);
      expect(records).toBe(50);
      expect(spend).toBe(ledger);
      expect(spend).toBeLessThanOrEqual(budgetNano);
    });
  });

  it('routes to the cheaper group past the budget_fallback threshold, and refuses past the budget', async () => {
    const { id, key } = await createKey(gw.url, { name: 'downgrade', budget_usd: (4 * RESERVE_NANO) / 1e9 });
    const models: string[] = [];
    for (let i = 0; i < 12; i++) {
      const answer = await streamCall(gw, key, 'smart');
      if (answer.status !== 200) {
        expect(answer.status).toBe(429);
        break;
      }
      models.push(`${answer.headers.get('x-gateway-model')}:${answer.headers.get('x-gateway-budget') ?? 'full'}`);
    }
    // First at full price while under half the budget; then downgraded, until even the cheap calls no longer fit.
    expect(models[0]).toBe('mock-smart:full');
    expect(models).toContain('mock-cheap:downgraded');
    const firstDowngrade = models.indexOf('mock-cheap:downgraded');
    expect(models.slice(firstDowngrade).every((m) => m === 'mock-cheap:downgraded')).toBe(true);
    const logs = await admin(gw.url, 'GET', `/admin/logs?key=${id}&limit=100`);
    const downgraded = (logs.body.records as Array<{ model: string; upstream_model: string; status: number }>).filter((r) => r.upstream_model === 'mock-cheap');
    expect(downgraded.length).toBeGreaterThan(0);
    expect(downgraded.every((r) => r.model === 'smart' && r.status === 200)).toBe(true);
  });
});

describe('spend across Redis faults', () => {
  let dir: string;
  let redis: RedisProcess;
  const faultPrefix = 'faults:';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'konnect-budgets-'));
    redis = new RedisProcess(await freePort(), dir);
    await redis.start();
  });
  afterAll(async () => {
    await redis.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const gatewayOn = () => startGateway(config({ redis_url: redis.url, key_prefix: faultPrefix }, { providers: { demo: { type: 'mock', chunk_delay_ms: 60 } } }));

  it('loses no spend when Redis dies mid-stream, nor across a gateway restart', async () => {
    let gw = await gatewayOn();
    const { id, key } = await createKey(gw.url, { name: 'outage', budget_usd: 100 });
    // Ten streams admitted and under way, then Redis goes away while they finish.
    const started = Array.from({ length: 10 }, () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'paid', messages: PROMPT, max_tokens: MAX_TOKENS, stream: true }),
      }),
    );
    const responses = await Promise.all(started);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    await redis.kill();
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(bodies.every((b) => b.includes('[DONE]'))).toBe(true);
    // The gateway stops while Redis is still down: ledger and settlements spool to disk.
    await gw.close();
    await redis.start();
    gw = await gatewayOn();
    try {
      await eventually(async () => {
        const { spend, ledger, records } = await spendAndLedger(gw, id);
        expect(records).toBe(10);
        expect(ledger).toBeGreaterThan(0);
        expect(spend).toBe(ledger);
      }, 200);
      // Nothing is left reserved: every call's reservation was replaced by its real cost.
      const probe = new Redis(redis.url);
      try {
        expect(Number((await probe.get(`${faultPrefix}resv:k:${id}:sum`)) ?? 0)).toBe(0);
      } finally {
        probe.disconnect();
      }
    } finally {
      await gw.close();
    }
  });

  it('leaves no count behind for calls refused while Redis stalled', async () => {
    const gw = await gatewayOn();
    try {
      const { key } = await createKey(gw.url, { name: 'stalled', rpm: 100 });
      const call = () =>
        fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'paid', messages: PROMPT, max_tokens: MAX_TOKENS }),
        });
      // The first call also lets the gateway learn Redis's clock, which deadlines are written in.
      const warm = await call();
      expect(warm.headers.get('x-ratelimit-remaining-requests')).toBe('99');
      expect((await call()).headers.get('x-ratelimit-remaining-requests')).toBe('98');
      redis.pause();
      let answers: Response[];
      try {
        answers = await Promise.all(Array.from({ length: 20 }, call));
      } finally {
        // Redis now runs the 20 admissions it was sent, each long past its deadline.
        redis.resume();
      }
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 503));
      const after = await call();
      expect(after.status).toBe(200);
      expect(after.headers.get('x-ratelimit-remaining-requests')).toBe('97');
    } finally {
      await gw.close();
    }
  });
});
