/**
 * Balancing end to end: the `openai` SDK against the gateway, the gateway against scripted
 * OpenAI-compatible upstreams on 127.0.0.1:0. Weights, failover (500, 429, timeout, refused
 * connection), fallback groups, no retry on 400, streams that fail before and after their
 * first byte, cooldown and recovery, limits, deadlines and the deployments admin route.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createBalancer, type Balancer } from '../src/routing/balancer.js';
import { cutStream, failWith, slow, stall, startScriptedOpenAI, type ScriptedOpenAI } from './fakes/scripted-openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { closedPort } from './helpers/ports.js';

const MASTER_KEY = 'sk-master-balancing';
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function upstreams(...names: string[]): Promise<ScriptedOpenAI[]> {
  const fakes = await Promise.all(names.map((name) => startScriptedOpenAI(name)));
  for (const fake of fakes) closers.push(() => fake.close());
  return fakes;
}

type Models = Array<Record<string, unknown>>;

async function gateway(fakes: ScriptedOpenAI[], models: Models, options: { balancer?: Balancer; extraProviders?: Record<string, unknown> } = {}) {
  const providers: Record<string, unknown> = { ...options.extraProviders };
  for (const fake of fakes) providers[fake.name] = { type: 'openai-compatible', base_url: `${fake.url}/v1` };
  const gw = await startGateway({ auth: { master_key: MASTER_KEY }, providers, models }, { balancer: options.balancer });
  closers.push(() => gw.close());
  if (options.balancer) closers.push(() => options.balancer!.close());
  return gw;
}

const on = (fake: ScriptedOpenAI, extra: Record<string, unknown> = {}) => ({ provider: fake.name, model: `${fake.name}-model`, ...extra });
const messages = [{ role: 'user' as const, content: 'hi' }];

async function ask(gw: TestGateway, model: string) {
  const { data, response } = await gw.client.chat.completions.create({ model, messages }).withResponse();
  return {
    text: data.choices[0]!.message.content,
    provider: response.headers.get('x-gateway-provider'),
    attempts: Number(response.headers.get('x-gateway-attempts')),
  };
}

async function askFailing(gw: TestGateway, model: string) {
  const err = await gw.client.chat.completions.create({ model, messages }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OpenAI.APIError)) throw new Error(`expected an API error, got ${String(err)}`);
  return {
    status: err.status,
    code: err.code,
    attempts: Number(err.headers?.get('x-gateway-attempts')),
    retryAfter: err.headers?.get('retry-after'),
  };
}

async function deployments(gw: TestGateway): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${gw.url}/admin/deployments`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { deployments: Array<Record<string, unknown>> }).deployments;
}

describe('weighted balancing', () => {
  it('splits hundreds of requests by weight', async () => {
    const fakes = await upstreams('w1', 'w2', 'w3');
    const gw = await gateway(fakes, [
      { name: 'spread', retries: 0, deployments: [on(fakes[0]!, { weight: 1 }), on(fakes[1]!, { weight: 2 }), on(fakes[2]!, { weight: 3 })] },
    ]);
    const total = 600;
    const byProvider: Record<string, number> = { w1: 0, w2: 0, w3: 0 };
    let next = 0;
    const worker = async () => {
      while (next < total) {
        next++;
        const answer = await ask(gw, 'spread');
        expect(answer.text).toBe(`from ${answer.provider} ✓`);
        byProvider[answer.provider!]!++;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    // Binomial sd at n=600 is at most 0.021; 0.08 is nearly 4 sd.
    expect(Math.abs(byProvider.w1! / total - 1 / 6)).toBeLessThan(0.08);
    expect(Math.abs(byProvider.w2! / total - 2 / 6)).toBeLessThan(0.08);
    expect(Math.abs(byProvider.w3! / total - 3 / 6)).toBeLessThan(0.08);
    // What the headers said is what the upstreams saw.
    expect(fakes.map((f) => f.chatCalls())).toEqual([byProvider.w1, byProvider.w2, byProvider.w3]);
  });
});

describe('failover', () => {
  it('retries another deployment after a 500', async () => {
    const [bad, good] = await upstreams('bad', 'good');
    bad!.behave(failWith(500));
    const gw = await gateway([bad!, good!], [{ name: 'm', strategy: 'priority', deployments: [on(bad!), on(good!)] }]);
    expect(await ask(gw, 'm')).toEqual({ text: 'from good ✓', provider: 'good', attempts: 2 });
    expect(bad!.chatCalls()).toBe(1);
  });

  it('retries another deployment after a 429 and leaves the limited one alone until its retry-after', async () => {
    const [limited, good] = await upstreams('limited', 'good');
    limited!.behave(failWith(429, 30));
    const gw = await gateway([limited!, good!], [{ name: 'm', strategy: 'priority', deployments: [on(limited!), on(good!)] }]);
    expect(await ask(gw, 'm')).toMatchObject({ provider: 'good', attempts: 2 });
    for (let i = 0; i < 5; i++) expect(await ask(gw, 'm')).toMatchObject({ provider: 'good', attempts: 1 });
    expect(limited!.chatCalls()).toBe(1);
    const [first] = await deployments(gw);
    expect(first).toMatchObject({ id: 'm/0', state: 'cooldown' });
  });

  it('gives a 429 back to the client with retry-after when every attempt was rate limited', async () => {
    const [limited] = await upstreams('limited');
    limited!.behave(failWith(429, 30));
    const gw = await gateway([limited!], [{ name: 'm', retries: 2, deployments: [on(limited!)] }]);
    // retry-after 30 s is too long to wait: one attempt, and the upstream's answer.
    expect(await askFailing(gw, 'm')).toMatchObject({ status: 429, attempts: 1, retryAfter: '30' });
  });

  it('retries another deployment when one does not answer within its timeout', async () => {
    const [stuck, good] = await upstreams('stuck', 'good');
    stuck!.behave(stall());
    const gw = await gateway([stuck!, good!], [
      { name: 'm', strategy: 'priority', timeout_ms: 10_000, deployments: [on(stuck!, { timeout_ms: 200 }), on(good!)] },
    ]);
    expect(await ask(gw, 'm')).toEqual({ text: 'from good ✓', provider: 'good', attempts: 2 });
  });

  it('retries another deployment when the connection is refused', async () => {
    const [good] = await upstreams('good');
    const port = await closedPort();
    const gw = await gateway([good!], [{ name: 'm', strategy: 'priority', deployments: [{ provider: 'gone', model: 'x' }, on(good!)] }], {
      extraProviders: { gone: { type: 'openai-compatible', base_url: `http://127.0.0.1:${port}/v1` } },
    });
    expect(await ask(gw, 'm')).toEqual({ text: 'from good ✓', provider: 'good', attempts: 2 });
  });

  it('answers 502 after retries on every deployment failed, counting every attempt', async () => {
    const [a, b] = await upstreams('a', 'b');
    a!.behave(failWith(503));
    b!.behave(failWith(500));
    const gw = await gateway([a!, b!], [{ name: 'm', retries: 2, deployments: [on(a!), on(b!)] }]);
    expect(await askFailing(gw, 'm')).toMatchObject({ status: 502, attempts: 3 });
    expect(a!.chatCalls() + b!.chatCalls()).toBe(3);
    // Both were tried before either was tried twice.
    expect(a!.chatCalls()).toBeGreaterThanOrEqual(1);
    expect(b!.chatCalls()).toBeGreaterThanOrEqual(1);
  });

  it('never retries a 400: the request is at fault, not the deployment', async () => {
    const [picky, good] = await upstreams('picky', 'good');
    picky!.behave(failWith(400));
    const gw = await gateway([picky!, good!], [{ name: 'm', strategy: 'priority', retries: 3, deployments: [on(picky!), on(good!)] }]);
    expect(await askFailing(gw, 'm')).toMatchObject({ status: 400, attempts: 1 });
    expect(good!.chatCalls()).toBe(0);
  });

  it('moves on to the fallback groups when a group is spent', async () => {
    const [bad, backup] = await upstreams('bad', 'backup');
    bad!.behave(failWith(500));
    const gw = await gateway([bad!, backup!], [
      { name: 'primary', retries: 1, fallbacks: ['secondary'], deployments: [on(bad!)] },
      { name: 'secondary', retries: 0, deployments: [on(backup!)] },
    ]);
    expect(await ask(gw, 'primary')).toEqual({ text: 'from backup ✓', provider: 'backup', attempts: 3 });
    expect(bad!.chatCalls()).toBe(2);
  });

  it('bounds every attempt together by deadline_ms', async () => {
    const [stuck1, stuck2] = await upstreams('stuck1', 'stuck2');
    stuck1!.behave(stall());
    stuck2!.behave(stall());
    const gw = await gateway([stuck1!, stuck2!], [
      { name: 'm', strategy: 'priority', retries: 3, timeout_ms: 5000, deadline_ms: 300, deployments: [on(stuck1!), on(stuck2!)] },
    ]);
    expect(await askFailing(gw, 'm')).toMatchObject({ status: 504, code: 'upstream_timeout', attempts: 1 });
    expect(stuck2!.chatCalls()).toBe(0);
  });
});

describe('streams', () => {
  async function collect(gw: TestGateway, model: string) {
    const { data: stream, response } = await gw.client.chat.completions.create({ model, messages, stream: true }).withResponse();
    let text = '';
    let error: unknown;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    } catch (err) {
      error = err;
    }
    return { text, error, provider: response.headers.get('x-gateway-provider'), attempts: Number(response.headers.get('x-gateway-attempts')) };
  }

  it('fails over while no byte has reached the client', async () => {
    const [broken, refusing, good] = await upstreams('broken', 'refusing', 'good');
    broken!.behave(cutStream('broken', 0));
    refusing!.behave(failWith(500));
    const gw = await gateway([broken!, refusing!, good!], [
      { name: 'm', strategy: 'priority', retries: 2, deployments: [on(broken!), on(refusing!), on(good!)] },
    ]);
    expect(await collect(gw, 'm')).toEqual({ text: 'from good ✓', error: undefined, provider: 'good', attempts: 3 });
  });

  it('ends with an error, not a second answer, when the upstream dies after the first byte', async () => {
    const [dying, good] = await upstreams('dying', 'good');
    dying!.behave(cutStream('dying', 1));
    const gw = await gateway([dying!, good!], [{ name: 'm', strategy: 'priority', retries: 2, deployments: [on(dying!), on(good!)] }]);
    const result = await collect(gw, 'm');
    expect(result.text).toBe('from ');
    expect(result.error).toBeInstanceOf(OpenAI.APIError);
    expect(result.attempts).toBe(1);
    expect(good!.chatCalls()).toBe(0);
  });
});

describe('health', () => {
  it('cools a failing deployment down, probes it after the cooldown, and restores it', async () => {
    const [flaky, steady] = await upstreams('flaky', 'steady');
    flaky!.behave(failWith(500));
    // The balancer's clock is the test's: the cooldown ends when the test moves it, not after a wait.
    let now = Date.now();
    const balancer = createBalancer({ clock: () => now, cooldown: { failuresToCool: 2, cooldownMs: 300, maxCooldownMs: 1000 } });
    const gw = await gateway([flaky!, steady!], [{ name: 'm', strategy: 'priority', retries: 1, deployments: [on(flaky!), on(steady!)] }], {
      balancer,
    });
    expect(await ask(gw, 'm')).toMatchObject({ provider: 'steady', attempts: 2 });
    expect(await ask(gw, 'm')).toMatchObject({ provider: 'steady', attempts: 2 });
    const cooled = (await deployments(gw))[0]!;
    expect(cooled).toMatchObject({ id: 'm/0', provider: 'flaky', state: 'cooldown', error_rate: 1, failures: 2 });
    // Cooling down: skipped without an attempt.
    for (let i = 0; i < 5; i++) expect(await ask(gw, 'm')).toMatchObject({ provider: 'steady', attempts: 1 });
    expect(flaky!.chatCalls()).toBe(2);

    flaky!.behave(undefined);
    now = Date.parse(cooled.cooldown_until as string) + 1;
    // The probe goes to the recovered deployment, and it gets its traffic back.
    expect(await ask(gw, 'm')).toMatchObject({ provider: 'flaky', attempts: 1 });
    expect((await deployments(gw))[0]).toMatchObject({ state: 'healthy', cooldown_until: null, probing: false });
    expect(await ask(gw, 'm')).toMatchObject({ provider: 'flaky', attempts: 1 });
  });
});

describe('a group of one deployment', () => {
  it('keeps being served while it fails and after it recovers: no cooldown shuts a group down', async () => {
    const [only] = await upstreams('only');
    only!.behave(failWith(500));
    const gw = await gateway([only!], [{ name: 'm', retries: 0, deployments: [on(only!)] }]);
    for (let i = 0; i < 5; i++) expect(await askFailing(gw, 'm')).toMatchObject({ status: 502, attempts: 1 });
    expect((await deployments(gw))[0]).toMatchObject({ state: 'cooldown' });
    only!.behave(undefined);
    expect(await ask(gw, 'm')).toEqual({ text: 'from only ✓', provider: 'only', attempts: 1 });
    expect((await deployments(gw))[0]).toMatchObject({ state: 'healthy' });
  });
});

describe('limits', () => {
  it('spills over to the next deployment once one reached its rpm', async () => {
    const [capped, spare] = await upstreams('capped', 'spare');
    const gw = await gateway([capped!, spare!], [
      { name: 'm', strategy: 'priority', deployments: [on(capped!, { limits: { rpm: 3 } }), on(spare!)] },
    ]);
    const providers = [];
    for (let i = 0; i < 6; i++) providers.push((await ask(gw, 'm')).provider);
    expect(providers).toEqual(['capped', 'capped', 'capped', 'spare', 'spare', 'spare']);
  });

  it('makes a request wait for a free slot up to the group timeout, then answers 429 with retry-after', async () => {
    const [busy] = await upstreams('busy');
    busy!.behave(slow('busy', 800));
    const gw = await gateway([busy!], [
      { name: 'm', timeout_ms: 200, deployments: [on(busy!, { timeout_ms: 5000, limits: { concurrency: 1 } })] },
    ]);
    const first = ask(gw, 'm');
    // Let the first request take the only slot before the second arrives.
    await expect.poll(() => busy!.chatCalls()).toBe(1);
    expect(await askFailing(gw, 'm')).toMatchObject({ status: 429, code: 'rate_limit_exceeded', attempts: 0, retryAfter: '1' });
    expect(await first).toMatchObject({ provider: 'busy', attempts: 1 });
    expect(busy!.chatCalls()).toBe(1);
  });

  it('serves the waiting request when the slot frees within the group timeout', async () => {
    const [busy] = await upstreams('busy');
    busy!.behave(slow('busy', 150));
    const gw = await gateway([busy!], [
      { name: 'm', timeout_ms: 5000, deployments: [on(busy!, { limits: { concurrency: 1 } })] },
    ]);
    const answers = await Promise.all([ask(gw, 'm'), ask(gw, 'm'), ask(gw, 'm')]);
    expect(answers.map((a) => a.provider)).toEqual(['busy', 'busy', 'busy']);
    expect(busy!.chatCalls()).toBe(3);
  });

  it('answers 429 when a deployment spent its rpm, with the rest of the minute as retry-after', async () => {
    const [capped] = await upstreams('capped');
    const gw = await gateway([capped!], [{ name: 'm', timeout_ms: 100, deployments: [on(capped!, { limits: { rpm: 2 } })] }]);
    await ask(gw, 'm');
    await ask(gw, 'm');
    const refused = await askFailing(gw, 'm');
    expect(refused).toMatchObject({ status: 429, attempts: 0 });
    expect(Number(refused.retryAfter)).toBeGreaterThan(50);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(capped!.chatCalls()).toBe(2);
  });
});

describe('strategies over HTTP', () => {
  it('cost: sends every request to the cheaper deployment', async () => {
    const [dear, cheap] = await upstreams('dear', 'cheap');
    const gw = await gateway([dear!, cheap!], [
      {
        name: 'm',
        strategy: 'cost',
        deployments: [on(dear!, { price: { input: 5, output: 15 }, weight: 10 }), on(cheap!, { price: { input: 0.15, output: 0.6 } })],
      },
    ]);
    for (let i = 0; i < 20; i++) expect((await ask(gw, 'm')).provider).toBe('cheap');
    expect(dear!.chatCalls()).toBe(0);
  });

  it('latency: moves traffic to the faster deployment', async () => {
    const [sluggish, quick] = await upstreams('sluggish', 'quick');
    sluggish!.behave(slow('sluggish', 120));
    const gw = await gateway([sluggish!, quick!], [{ name: 'm', strategy: 'latency', deployments: [on(sluggish!), on(quick!)] }]);
    const providers = [];
    for (let i = 0; i < 60; i++) providers.push((await ask(gw, 'm')).provider);
    // Both are measured first, then the quick one takes all but the exploration share.
    expect(providers.slice(10).filter((p) => p === 'quick').length).toBeGreaterThan(40);
  });
});

describe('GET /admin/deployments', () => {
  it('needs the master key', async () => {
    const [a] = await upstreams('a');
    const gw = await gateway([a!], [{ name: 'm', deployments: [on(a!)] }]);
    const res = await fetch(`${gw.url}/admin/deployments`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
  });

  it('shows each deployment with its state, load, latency and error rate', async () => {
    const [a, b] = await upstreams('a', 'b');
    const gw = await gateway([a!, b!], [
      { name: 'm', strategy: 'least-busy', deployments: [on(a!, { limits: { rpm: 100 } }), on(b!, { weight: 2 })] },
    ]);
    for (let i = 0; i < 4; i++) await ask(gw, 'm');
    const list = await deployments(gw);
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({
      id: 'm/0',
      group: 'm',
      strategy: 'least-busy',
      provider: 'a',
      model: 'a-model',
      state: 'healthy',
      cooldown_until: null,
      in_flight: 0,
      error_rate: 0,
      failures: 0,
      limits: { rpm: 100 },
    });
    expect(list[1]).toMatchObject({ id: 'm/1', provider: 'b', weight: 2, limits: null });
    const requests = list.map((d) => d.requests as number);
    expect(requests[0]! + requests[1]!).toBe(4);
    for (const d of list) if ((d.requests as number) > 0) expect(d.latency_ms).toEqual(expect.any(Number));
  });
});
