/**
 * The balancer over real model groups (mock deployments, never called): strategies fed by what
 * it learns from reported attempts, health and cooldowns, short retry-after waits, limits.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load-config.js';
import type { ChatRequest } from '../src/core/types.js';
import { GatewayError } from '../src/core/errors.js';
import { UpstreamError } from '../src/core/upstream-error.js';
import { ModelRegistry, type ModelGroup } from '../src/pipeline/model-registry.js';
import { classifyAttempt, createBalancer, type Balancer } from '../src/routing/balancer.js';
import { createRedis } from '../src/store/redis.js';
import { seeded } from './helpers/random.js';

function groupOf(strategy: string, deployments: Array<Record<string, unknown>>): ModelGroup {
  const config = parseConfig({
    providers: { m: { type: 'mock' } },
    models: [{ name: 'g', strategy, deployments: deployments.map((d) => ({ provider: 'm', ...d })) }],
  });
  return new ModelRegistry(config).resolve('g')!;
}

const chat = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'g', messages: [{ role: 'user', content: text }], ...extra });
const open = () => ({ signal: new AbortController().signal, waitUntil: Date.now() + 1000 });
const none = new Set<string>();

async function modelOf(balancer: Balancer, group: ModelGroup, req?: ChatRequest, tried: ReadonlySet<string> = none): Promise<string> {
  const d = await balancer.acquire(group, tried, req, open());
  balancer.finished({ deployment: d, ok: true, latencyMs: 1 });
  return d.model;
}

const STATUS_OF = { upstream_error: 500, upstream_bad_request: 400, upstream_rate_limited: 429 } as const;

function fail(code: 'upstream_error' | 'upstream_bad_request' | 'upstream_rate_limited' | 'upstream_timeout', retryAfter?: number) {
  if (code === 'upstream_timeout') return new UpstreamError({ kind: 'timeout', provider: 'm', message: 'scripted' });
  const headers = { 'retry-after': retryAfter === undefined ? undefined : String(retryAfter) };
  return new UpstreamError({ kind: 'http', provider: 'm', status: STATUS_OF[code], headers, message: 'scripted' });
}

describe('latency strategy', () => {
  it('moves traffic off a deployment that turned slow, and back once it recovered', async () => {
    const group = groupOf('latency', [{ model: 'a' }, { model: 'b' }, { model: 'c' }]);
    const balancer = createBalancer({ random: seeded(5) });
    const truth: Record<string, number> = { a: 100, b: 300, c: 320 };
    const picks: string[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i === 1000) truth.a = 2000;
      if (i === 2000) truth.a = 100;
      const d = await balancer.acquire(group, none, chat('hi'), open());
      picks.push(d.model);
      balancer.finished({ deployment: d, ok: true, latencyMs: truth[d.model]! });
    }
    const shareOfA = (from: number, to: number) => picks.slice(from, to).filter((m) => m === 'a').length / (to - from);
    expect(shareOfA(200, 1000)).toBeGreaterThan(0.9);
    expect(shareOfA(1300, 2000)).toBeLessThan(0.1);
    expect(shareOfA(2500, 3000)).toBeGreaterThan(0.9);
    expect(balancer.status(group.deployments[0]!).latencyMs).toBeLessThan(150);
  });

  it('ranks streams by time to first token', async () => {
    const group = groupOf('latency', [{ model: 'a' }, { model: 'b' }]);
    const balancer = createBalancer({ exploration: 0 });
    const [a, b] = group.deployments;
    // a: quick to start, long answers; b: slow to start, short answers.
    balancer.finished({ deployment: a!, ok: true, latencyMs: 5000, ttftMs: 100 });
    balancer.finished({ deployment: b!, ok: true, latencyMs: 900, ttftMs: 800 });
    balancer.finished({ deployment: a!, ok: true, latencyMs: 4000 });
    balancer.finished({ deployment: b!, ok: true, latencyMs: 700 });
    expect(await modelOf(balancer, group, chat('hi', { stream: true }))).toBe('a');
    expect(await modelOf(balancer, group, chat('hi'))).toBe('b');
  });
});

describe('cost strategy', () => {
  const group = groupOf('cost', [
    { model: 'premium', price: { input: 2.5, output: 10 } },
    { model: 'reader', price: { input: 0.1, output: 4 } },
    { model: 'writer', price: { input: 0.6, output: 0.6 } },
  ]);

  it('picks the deployment cheapest for this request, counting its tokens', async () => {
    const balancer = createBalancer();
    const longPrompt = chat('lorem ipsum dolor sit amet '.repeat(2000), { max_tokens: 50 });
    const longAnswer = chat('write a long story', { max_tokens: 4000 });
    for (let i = 0; i < 20; i++) {
      expect(await modelOf(balancer, group, longPrompt)).toBe('reader');
      expect(await modelOf(balancer, group, longAnswer)).toBe('writer');
    }
  });

  it('falls back to the next cheapest when the cheapest is cooling down', async () => {
    const balancer = createBalancer();
    const writer = group.deployments[2]!;
    for (let i = 0; i < 3; i++) {
      await balancer.acquire(group, none, chat('x'), open());
      balancer.finished({ deployment: writer, ok: false, latencyMs: 1, error: fail('upstream_error') });
    }
    expect(await modelOf(balancer, group, chat('write', { max_tokens: 4000 }))).toBe('reader');
  });
});

describe('least-busy strategy', () => {
  it('sends the next request to the deployment with the fewest in flight', async () => {
    const group = groupOf('least-busy', [{ model: 'a' }, { model: 'b' }, { model: 'c' }]);
    const balancer = createBalancer();
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await balancer.acquire(group, none, undefined, open()));
    expect(held.map((d) => d.model).sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    balancer.finished({ deployment: held.find((d) => d.model === 'b')!, ok: true, latencyMs: 1 });
    expect((await balancer.acquire(group, none, undefined, open())).model).toBe('b');
    expect(balancer.status(group.deployments[0]!).inFlight).toBe(2);
  });
});

describe('priority strategy', () => {
  it('uses the first deployment; the next only when it was tried or is cooling down', async () => {
    const group = groupOf('priority', [{ model: 'first' }, { model: 'second' }, { model: 'third' }]);
    const balancer = createBalancer();
    for (let i = 0; i < 10; i++) expect(await modelOf(balancer, group)).toBe('first');
    expect(await modelOf(balancer, group, undefined, new Set(['g/0']))).toBe('second');
    expect(await modelOf(balancer, group, undefined, new Set(['g/0', 'g/1']))).toBe('third');
    // Every one tried: retries go round again, in order.
    expect(await modelOf(balancer, group, undefined, new Set(['g/0', 'g/1', 'g/2']))).toBe('first');
    for (let i = 0; i < 3; i++) balancer.finished({ deployment: group.deployments[0]!, ok: false, latencyMs: 1, error: fail('upstream_error') });
    expect(await modelOf(balancer, group)).toBe('second');
  });
});

describe('health', () => {
  it('cools a failing deployment down, probes it with one request, then restores it', async () => {
    const clock = { now: 1_000_000 };
    const group = groupOf('weighted', [{ model: 'flaky' }, { model: 'steady' }]);
    const flaky = group.deployments[0]!;
    const balancer = createBalancer({ clock: () => clock.now, cooldown: { failuresToCool: 2, cooldownMs: 10_000, maxCooldownMs: 60_000 } });
    for (let i = 0; i < 2; i++) balancer.finished({ deployment: flaky, ok: false, latencyMs: 5, error: fail('upstream_error') });
    expect(balancer.status(flaky)).toMatchObject({ state: 'cooldown', cooldownUntil: 1_010_000, failures: 2, errorRate: 1 });
    for (let i = 0; i < 50; i++) expect(await modelOf(balancer, group)).toBe('steady');

    clock.now += 10_000;
    // The cooldown is over even while no request has come to probe it: no end time stuck at "now".
    expect(balancer.status(flaky)).toMatchObject({ state: 'healthy', cooldownUntil: undefined, probing: false });
    clock.now += 60_000;
    expect(balancer.status(flaky)).toMatchObject({ state: 'healthy', cooldownUntil: undefined });
    const picks: string[] = [];
    const held = [];
    for (let i = 0; i < 50; i++) {
      const d = await balancer.acquire(group, none, undefined, open());
      picks.push(d.model);
      held.push(d);
    }
    // Exactly one probe while it is out.
    expect(picks.filter((m) => m === 'flaky')).toHaveLength(1);
    expect(balancer.status(flaky)).toMatchObject({ state: 'cooldown', probing: true });
    for (const d of held) balancer.finished({ deployment: d, ok: true, latencyMs: 5 });
    expect(balancer.status(flaky)).toMatchObject({ state: 'healthy', probing: false });
    const after: string[] = [];
    for (let i = 0; i < 200; i++) after.push(await modelOf(balancer, group));
    expect(after.filter((m) => m === 'flaky').length).toBeGreaterThan(60);
  });

  it('does not count a request the upstream refused as bad (400) against its health', async () => {
    const group = groupOf('priority', [{ model: 'a' }, { model: 'b' }]);
    const balancer = createBalancer();
    for (let i = 0; i < 10; i++) balancer.finished({ deployment: group.deployments[0]!, ok: false, latencyMs: 1, error: fail('upstream_bad_request') });
    expect(balancer.status(group.deployments[0]!).state).toBe('healthy');
    expect(await modelOf(balancer, group)).toBe('a');
  });

  it('keeps serving a group whose every deployment is cooling down: health steers, it does not refuse', async () => {
    const group = groupOf('weighted', [{ model: 'a' }]);
    const balancer = createBalancer({ cooldown: { failuresToCool: 1, cooldownMs: 30_000, maxCooldownMs: 30_000 } });
    balancer.finished({ deployment: group.deployments[0]!, ok: false, latencyMs: 1, error: fail('upstream_timeout') });
    expect(balancer.status(group.deployments[0]!).state).toBe('cooldown');
    expect(await modelOf(balancer, group)).toBe('a');
  });

  it('waits out a short retry-after when no other deployment is left, and not a long one', async () => {
    const group = groupOf('weighted', [{ model: 'only' }]);
    const only = group.deployments[0]!;
    const balancer = createBalancer({ maxRetryAfterWaitMs: 2000 });
    balancer.finished({ deployment: only, ok: false, latencyMs: 1, error: fail('upstream_rate_limited', 1) });
    expect(balancer.status(only).state).toBe('cooldown');
    expect((await balancer.acquire(group, none, undefined, { signal: new AbortController().signal, waitUntil: Date.now() + 5000 })).model).toBe('only');
    // It was handed out only once the block had ended.
    expect(balancer.status(only).state).toBe('healthy');
    balancer.finished({ deployment: only, ok: false, latencyMs: 1, error: fail('upstream_rate_limited', 30) });
    // Too long to wait: a retry of the request it refused does not go back to it...
    await expect(balancer.acquire(group, new Set([only.id]), undefined, open())).rejects.toMatchObject({ status: 503 });
    // ...while a new request still may: the upstream has the last word.
    expect((await balancer.acquire(group, none, undefined, open())).model).toBe('only');
  });
});

describe('limits', () => {
  it('spills over to a deployment under its limits, then answers 429 when all are full', async () => {
    const group = groupOf('priority', [
      { model: 'a', limits: { rpm: 2 } },
      { model: 'b', limits: { concurrency: 1 } },
    ]);
    const balancer = createBalancer();
    const models = [];
    for (let i = 0; i < 3; i++) models.push((await balancer.acquire(group, none, undefined, open())).model);
    expect(models).toEqual(['a', 'a', 'b']);
    const err = await balancer
      .acquire(group, none, undefined, { signal: new AbortController().signal, waitUntil: Date.now() + 50 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    // b's concurrency frees first: one second, not the rest of a's minute.
    expect((err as GatewayError).retryAfter).toBe(1);
  });

  it('hands a waiting request the first slot that frees up', async () => {
    const group = groupOf('weighted', [{ model: 'a', limits: { concurrency: 1 } }]);
    const balancer = createBalancer();
    const first = await balancer.acquire(group, none, undefined, open());
    const waiting = balancer.acquire(group, none, undefined, { signal: new AbortController().signal, waitUntil: Date.now() + 5000 });
    setTimeout(() => balancer.finished({ deployment: first, ok: true, latencyMs: 1 }), 50);
    expect((await waiting).model).toBe('a');
  });

  it('stops waiting when the client leaves', async () => {
    const group = groupOf('weighted', [{ model: 'a', limits: { concurrency: 1 } }]);
    const balancer = createBalancer();
    await balancer.acquire(group, none, undefined, open());
    const client = new AbortController();
    const waiting = balancer.acquire(group, none, undefined, { signal: client.signal, waitUntil: Date.now() + 5000 });
    client.abort(new Error('client left'));
    await expect(waiting).rejects.toThrow('client left');
  });
});

describe('without Redis', () => {
  it('lets requests through unlimited while the shared store is unreachable, and says so once', async () => {
    const group = groupOf('weighted', [{ model: 'a', limits: { rpm: 1 } }]);
    // Port 1: nothing listens, every connection is refused.
    const redis = createRedis('redis://127.0.0.1:1');
    redis.on('error', () => undefined);
    const errors: unknown[] = [];
    const balancer = createBalancer({ redis, keyPrefix: 'test:unreachable:', onError: (err) => errors.push(err) });
    try {
      for (let i = 0; i < 5; i++) {
        const d = await balancer.acquire(group, none, undefined, open());
        balancer.finished({ deployment: d, ok: true, latencyMs: 1 });
      }
      expect(balancer.status(group.deployments[0]!).requests).toBe(5);
      expect(errors).toHaveLength(1);
    } finally {
      await balancer.close();
      redis.disconnect();
    }
  });
});

describe('classifyAttempt', () => {
  const deployment = groupOf('weighted', [{ model: 'a' }]).deployments[0]!;
  it('tells failures from answers and from departed clients', () => {
    expect(classifyAttempt({ deployment, ok: true, latencyMs: 1 }).kind).toBe('success');
    expect(classifyAttempt({ deployment, ok: false, latencyMs: 1 }).kind).toBe('failure');
    expect(classifyAttempt({ deployment, ok: false, latencyMs: 1, error: new Error('client left') }).kind).toBe('neutral');
    expect(classifyAttempt({ deployment, ok: false, latencyMs: 1, error: fail('upstream_rate_limited', 7) })).toEqual({
      kind: 'failure',
      retryAfterMs: 7000,
      timedOut: false,
    });
    expect(classifyAttempt({ deployment, ok: false, latencyMs: 1, error: fail('upstream_timeout') })).toMatchObject({ timedOut: true });
    expect(classifyAttempt({ deployment, ok: false, latencyMs: 1, error: fail('upstream_bad_request') }).kind).toBe('success');
  });
});
