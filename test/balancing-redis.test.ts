/**
 * Two gateway instances on one real Redis (127.0.0.1:6379) share each deployment's limits
 * (bottleneck's Redis datastore) and its cooldowns. Keys live under a prefix unique to this
 * run and are deleted afterwards. Fails, never skips, without Redis.
 */
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { failWith, slow, startScriptedOpenAI, type ScriptedOpenAI } from './fakes/scripted-openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const MASTER_KEY = 'sk-master-balancing-redis';
const prefix = uniquePrefix('balancing-redis');
let redis: Redis;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  expect(await redis.ping()).toBe('PONG');
});

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

afterAll(async () => {
  // bottleneck names its keys `b_<id>_…`, and our ids start with the prefix.
  await dropPrefix(prefix);
  await dropPrefix(`b_${prefix}`);
  await redis.quit();
});

async function upstream(name: string): Promise<ScriptedOpenAI> {
  const fake = await startScriptedOpenAI(name);
  closers.push(() => fake.close());
  return fake;
}

/** Two instances with the same config, Redis and key prefix, as behind a load balancer. */
async function twoInstances(fakes: ScriptedOpenAI[], models: Array<Record<string, unknown>>, scope: string): Promise<TestGateway[]> {
  const providers = Object.fromEntries(fakes.map((f) => [f.name, { type: 'openai-compatible', base_url: `${f.url}/v1` }]));
  const config = { auth: { master_key: MASTER_KEY }, store: { redis_url: REDIS_URL, key_prefix: `${prefix}${scope}:` }, providers, models };
  const gateways = [await startGateway(config), await startGateway(config)];
  for (const gw of gateways) closers.push(() => gw.close());
  return gateways;
}

const on = (fake: ScriptedOpenAI, extra: Record<string, unknown> = {}) => ({ provider: fake.name, model: `${fake.name}-model`, ...extra });

async function call(gw: TestGateway, model: string) {
  try {
    const { response } = await gw.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    return { status: 200, provider: response.headers.get('x-gateway-provider'), attempts: Number(response.headers.get('x-gateway-attempts')) };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return { status: err.status, retryAfter: Number(err.headers?.get('retry-after')), attempts: Number(err.headers?.get('x-gateway-attempts')) };
  }
}

async function deployments(gw: TestGateway): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${gw.url}/admin/deployments`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  return ((await res.json()) as { deployments: Array<Record<string, unknown>> }).deployments;
}

describe('limits shared through Redis', () => {
  it("two instances together send exactly a deployment's rpm upstream", async () => {
    const fake = await upstream('shared');
    // The 7 over the limit wait for a slot until timeout_ms, then get 429; the 5 that hold one
    // must reach the upstream within it, which on a loaded machine can take well over 300 ms.
    const [a, b] = await twoInstances([fake], [{ name: 'm', retries: 0, timeout_ms: 2000, deployments: [on(fake, { limits: { rpm: 5 } })] }], 'rpm');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => call(i % 2 === 0 ? a! : b!, 'm')));
    expect(fake.chatCalls()).toBe(5);
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.attempts).toBe(0);
      expect(r.retryAfter).toBeGreaterThan(0);
      expect(r.retryAfter).toBeLessThanOrEqual(60);
    }
    // Each instance served some: the budget is one, not one per instance.
    const second = await Promise.all([call(a!, 'm'), call(b!, 'm')]);
    expect(second.map((r) => r.status)).toEqual([429, 429]);
    expect(fake.chatCalls()).toBe(5);
  });

  it('holds a concurrency slot across instances while a request is in flight', async () => {
    const fake = await upstream('single');
    fake.behave(slow('single', 700));
    const [a, b] = await twoInstances(
      [fake],
      [{ name: 'm', retries: 0, timeout_ms: 200, deployments: [on(fake, { timeout_ms: 5000, limits: { concurrency: 1 } })] }],
      'concurrency',
    );
    const first = call(a!, 'm');
    await expect.poll(() => fake.chatCalls()).toBe(1);
    expect(await call(b!, 'm')).toMatchObject({ status: 429, attempts: 0, retryAfter: 1 });
    expect(await first).toMatchObject({ status: 200 });
    // Freed on the other instance: this one may go now.
    fake.behave(undefined);
    expect(await call(b!, 'm')).toMatchObject({ status: 200 });
    expect(fake.chatCalls()).toBe(2);
  });
});

describe('token limits shared through Redis', () => {
  it('charges each call\'s real tokens to the shared tpm, whichever instance served it', async () => {
    const fake = await upstream('tokens');
    const [a, b] = await twoInstances([fake], [{ name: 'm', retries: 0, timeout_ms: 200, deployments: [on(fake, { limits: { tpm: 30 } })] }], 'tpm');
    // What the other instance reports left of the shared tpm: each charge is visible everywhere.
    const reservoir = async () => (await deployments(b!))[0]!.limits_remaining as { tpm: number };
    // The fake reports 10 prompt + 3 completion tokens per call: 13 of the 30.
    expect(await call(a!, 'm')).toMatchObject({ status: 200 });
    await expect.poll(async () => (await reservoir()).tpm).toBe(17);
    expect(await call(b!, 'm')).toMatchObject({ status: 200 });
    await expect.poll(async () => (await reservoir()).tpm).toBe(4);
    // Fewer tokens left than this request's prompt alone: refused on either instance.
    expect(await call(a!, 'm')).toMatchObject({ status: 429, attempts: 0 });
    expect(await call(b!, 'm')).toMatchObject({ status: 429, attempts: 0 });
    expect(fake.chatCalls()).toBe(2);
  });
});

describe('cooldowns shared through Redis', () => {
  it('a deployment one instance cooled down gets no traffic from the other', async () => {
    const flaky = await upstream('flaky');
    const steady = await upstream('steady');
    flaky.behave(failWith(500));
    const [a, b] = await twoInstances(
      [flaky, steady],
      [{ name: 'm', strategy: 'priority', retries: 1, deployments: [on(flaky), on(steady)] }],
      'cooldown',
    );
    // The default policy cools down after three failures in a row.
    for (let i = 0; i < 3; i++) expect(await call(a!, 'm')).toMatchObject({ status: 200, provider: 'steady', attempts: 2 });
    expect(flaky.chatCalls()).toBe(3);
    await expect.poll(async () => (await deployments(b!))[0]!.state).toBe('cooldown');
    for (let i = 0; i < 3; i++) expect(await call(b!, 'm')).toMatchObject({ status: 200, provider: 'steady', attempts: 1 });
    expect(flaky.chatCalls()).toBe(3);
  });

  it('an instance started later learns of a running cooldown', async () => {
    const flaky = await upstream('flaky');
    const steady = await upstream('steady');
    flaky.behave(failWith(500));
    const models = [{ name: 'm', strategy: 'priority', retries: 1, deployments: [on(flaky), on(steady)] }];
    const providers = Object.fromEntries([flaky, steady].map((f) => [f.name, { type: 'openai-compatible', base_url: `${f.url}/v1` }]));
    const config = { auth: { master_key: MASTER_KEY }, store: { redis_url: REDIS_URL, key_prefix: `${prefix}late:` }, providers, models };
    const early = await startGateway(config);
    closers.push(() => early.close());
    for (let i = 0; i < 3; i++) await call(early, 'm');
    await expect.poll(async () => redis.exists(`${prefix}late:cooldown:m/0`)).toBe(1);

    const late = await startGateway(config);
    closers.push(() => late.close());
    await expect.poll(async () => (await deployments(late))[0]!.state).toBe('cooldown');
    expect(await call(late, 'm')).toMatchObject({ status: 200, provider: 'steady', attempts: 1 });
    expect(flaky.chatCalls()).toBe(3);
  });
});
