/**
 * Rate limits per key and team: rpm and tpm at the edge (the N-th call passes, the next
 * fails), tokens estimated before the call and corrected after it, team limits shared by its
 * keys, the tighter limit holding, and OpenAI's x-ratelimit-* headers on answers and 429s.
 * On the real Redis and on the embedded memory store.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { countMessageTokens, countTextTokens } from '../src/usage/count-tokens.js';
import { accessConfig, chat, clientFor, createKey, createTeam } from './helpers/access.js';
import { dropPrefix, uniquePrefix } from './helpers/redis.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const prefix = uniquePrefix('access-limits');
afterAll(() => dropPrefix(prefix));

const MESSAGES = [{ role: 'user' as const, content: 'Say something short.' }];

describe.each([{ store: 'redis' }, { store: 'memory' }])('limits on $store', ({ store }) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(accessConfig(store === 'redis' ? { prefix: `${prefix}${store}:` } : {}));
  });
  afterAll(() => gw.close());

  test('rpm: the N-th call passes, the next gets 429 with retry-after and x-ratelimit headers', async () => {
    const { key } = await createKey(gw.url, { name: 'rpm3', rpm: 3 });
    const client = clientFor(gw.url, key);
    for (let i = 1; i <= 3; i++) {
      const ok = await chat(client);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('3');
      expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe(String(3 - i));
      expect(ok.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+(\.\d+)?s|\d+ms|1m0s)$/);
      expect(ok.headers.get('x-ratelimit-limit-tokens')).toBeNull();
    }
    const refused = await chat(client);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // A refused call is not counted: still refused, not further behind.
    expect((await chat(client)).status).toBe(429);
  });

  test('tpm: prompt + max_tokens is reserved, the real usage corrects it, and the edge is exact', async () => {
    const maxTokens = 200;
    const estimate = countMessageTokens(MESSAGES) + maxTokens;
    // The real usage of this exact call, from a key without limits.
    const probe = await createKey(gw.url, { name: 'probe' });
    const actual = (await chat(clientFor(gw.url, probe.key), 'free', { max_tokens: maxTokens })).totalTokens!;
    expect(actual).toBeGreaterThan(0);
    expect(estimate).toBeGreaterThan(2 * actual); // so the test fails unless estimates are corrected

    // Room for two calls' real usage plus one more estimate: three calls pass, the fourth does not.
    const tpm = 2 * actual + estimate;
    const { key } = await createKey(gw.url, { name: 'tpm', tpm });
    const client = clientFor(gw.url, key);
    for (let i = 0; i < 3; i++) {
      const ok = await chat(client, 'free', { max_tokens: maxTokens });
      expect(ok.status).toBe(200);
      expect(ok.totalTokens).toBe(actual);
      expect(ok.headers.get('x-ratelimit-limit-tokens')).toBe(String(tpm));
      // Remaining after this call's reservation, before its correction.
      expect(ok.headers.get('x-ratelimit-remaining-tokens')).toBe(String(tpm - i * actual - estimate));
    }
    const refused = await chat(client, 'free', { max_tokens: maxTokens });
    expect(refused).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(refused.message).toMatch(/tokens/);
    expect(refused.headers.get('x-ratelimit-remaining-tokens')).toBe(String(tpm - 3 * actual));
    // A smaller call still fits in what is left.
    expect((await chat(client, 'free', { max_tokens: 1 })).status).toBe(200);
  });

  test('tpm: a request larger than the whole limit is refused before it runs', async () => {
    const { key } = await createKey(gw.url, { name: 'tiny', tpm: 100 });
    const refused = await chat(clientFor(gw.url, key), 'free', { max_tokens: 500 });
    expect(refused).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(refused.message).toMatch(/Request too large/);
  });

  test("a team's limit is shared by its keys", async () => {
    await createTeam(gw.url, { name: `shared-${store}`, rpm: 4 });
    const a = clientFor(gw.url, (await createKey(gw.url, { name: 'a', team: `shared-${store}` })).key);
    const b = clientFor(gw.url, (await createKey(gw.url, { name: 'b', team: `shared-${store}` })).key);
    const statuses = [];
    for (const client of [a, b, a, b]) statuses.push((await chat(client)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const refusedA = await chat(a);
    expect(refusedA).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(refusedA.message).toMatch(/team/);
    expect((await chat(b)).status).toBe(429);
  });

  test('the tighter of key and team holds, and the headers show the one closer to its limit', async () => {
    await createTeam(gw.url, { name: `roomy-${store}`, rpm: 10 });
    const tight = clientFor(gw.url, (await createKey(gw.url, { name: 'tight', team: `roomy-${store}`, rpm: 2 })).key);
    const free = clientFor(gw.url, (await createKey(gw.url, { name: 'free', team: `roomy-${store}` })).key);

    const first = await chat(free);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('9');
    const second = await chat(tight);
    expect(second.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(second.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect((await chat(tight)).status).toBe(200);
    const refused = await chat(tight);
    expect(refused).toMatchObject({ status: 429 });
    expect(refused.message).toMatch(/key/);
    // The team still has room for its other keys: 3 of its 10 used, and the refusal counted nothing.
    const other = await chat(free);
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-remaining-requests')).toBe('6');
  });

  test('streamed answers carry the headers and count against the limits too', async () => {
    const { key } = await createKey(gw.url, { name: 'streamer', rpm: 1, tpm: 10_000 });
    const call = () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: 'free', messages: MESSAGES, stream: true, stream_options: { include_usage: true } }),
      });
    const streamed = await call();
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(streamed.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(streamed.headers.get('x-ratelimit-limit-tokens')).toBe('10000');
    expect(await streamed.text()).toContain('data: [DONE]');
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
  });

  test('embeddings count against rpm, with their input tokens against tpm', async () => {
    const { key } = await createKey(gw.url, { name: 'embedder', rpm: 1, tpm: 1000 });
    const embed = () =>
      fetch(`${gw.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: 'free', input: ['hello world', 'goodbye'] }),
      });
    const ok = await embed();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - countTextTokens('hello world') - countTextTokens('goodbye')));
    expect((await embed()).status).toBe(429);
  });
});
