/**
 * Stored responses, on the real Redis and on the embedded memory store: `previous_response_id`
 * continues a conversation, `item_reference` names a stored item, GET/DELETE and the input items
 * list read what was stored, and all of it is scoped to the key that made it (another key gets
 * 404). Time is the test's: the memory store expires records on the injected clock.
 */
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { accessConfig, clientFor, createKey } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix('responses');
const TTL_S = 3600;
let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});

afterAll(async () => {
  await fake?.close();
  await dropPrefix(prefix);
});

describe.each([{ store: 'memory' }, { store: 'redis' }])('stored responses on $store', ({ store }) => {
  let gw: TestGateway;
  let owner: OpenAI;
  let stranger: OpenAI;
  let clock = Date.now();
  const keyPrefix = `${prefix}${store}:`;

  beforeAll(async () => {
    const base = accessConfig(store === 'redis' ? { prefix: keyPrefix } : {});
    gw = await startGateway(
      {
        ...base,
        providers: { ...base.providers, openai: { type: 'openai', api_key: 'sk-fake-openai', base_url: `${fake.url}/v1` } },
        models: [...base.models, { name: 'gpt', retries: 0, deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        responses: { store_ttl_s: TTL_S, max_stored_bytes: 64 * 1024 },
      },
      { now: () => clock },
    );
    owner = clientFor(gw.url, (await createKey(gw.url, { name: 'owner' })).key);
    stranger = clientFor(gw.url, (await createKey(gw.url, { name: 'stranger' })).key);
  });

  afterAll(() => gw?.close());

  it('previous_response_id sends the stored conversation first, without the old instructions', async () => {
    fake.enqueueChat({ content: 'Nice to meet you, Ann.' });
    const first = await owner.responses.create({ model: 'gpt', instructions: 'Be kind.', input: 'My name is Ann.' });
    fake.enqueueChat({ content: 'Your name is Ann.' });
    const second = await owner.responses.create({ model: 'gpt', instructions: 'Be brief.', input: 'What is my name?', previous_response_id: first.id });
    expect(second.output_text).toBe('Your name is Ann.');
    expect(second.previous_response_id).toBe(first.id);
    fake.enqueueChat({ content: 'Still Ann.' });
    await owner.responses.create({ model: 'gpt', input: 'And now?', previous_response_id: second.id });
    expect(fake.lastChatBody().messages).toEqual([
      { role: 'user', content: 'My name is Ann.' },
      { role: 'assistant', content: 'Nice to meet you, Ann.' },
      { role: 'user', content: 'What is my name?' },
      { role: 'assistant', content: 'Your name is Ann.' },
      { role: 'user', content: 'And now?' },
    ]);
  });

  it('another key finds nothing: 404 on previous_response_id, GET, DELETE and input_items', async () => {
    const mine = await owner.responses.create({ model: 'free', input: 'secret plans' });
    const continued = await apiErrorOf(stranger.responses.create({ model: 'free', input: 'tell me', previous_response_id: mine.id }));
    expect(continued.status).toBe(404);
    expect(continued.error).toMatchObject({ type: 'not_found_error', code: 'not_found', param: 'previous_response_id' });
    expect((await apiErrorOf(stranger.responses.retrieve(mine.id))).status).toBe(404);
    expect((await apiErrorOf(stranger.responses.delete(mine.id))).status).toBe(404);
    expect((await apiErrorOf(stranger.responses.inputItems.list(mine.id))).status).toBe(404);
    const reference = await apiErrorOf(stranger.responses.create({ model: 'free', input: [{ type: 'item_reference', id: mine.output[0]!.id! }] }));
    expect(reference.error).toMatchObject({ code: 'not_found', param: 'input[0].id' });
    // Still there for its owner.
    expect((await owner.responses.retrieve(mine.id)).output_text).toBe(mine.output_text);
  });

  it('GET answers the stored response; DELETE removes it once', async () => {
    const created = await owner.responses.create({ model: 'free', input: 'keep this', metadata: { run: '7' } });
    const got = await owner.responses.retrieve(created.id);
    expect(got).toEqual(created);
    const deleted = await owner.responses.delete(created.id);
    expect(deleted as unknown).toEqual({ id: created.id, object: 'response', deleted: true });
    expect((await apiErrorOf(owner.responses.retrieve(created.id))).status).toBe(404);
    expect((await apiErrorOf(owner.responses.delete(created.id))).status).toBe(404);
  });

  it('lists input items newest first, or oldest first, a page at a time', async () => {
    const created = await owner.responses.create({
      model: 'free',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: [{ type: 'input_text', text: 'one' }] },
        { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'two' },
        { role: 'user', content: 'three' },
      ],
    });
    const newest = await owner.responses.inputItems.list(created.id);
    expect(newest.data.map((item) => item.type)).toEqual(['message', 'function_call_output', 'function_call', 'message', 'message']);
    expect(newest.data[0]).toMatchObject({ type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'three' }] });
    expect(newest.data.every((item) => typeof item.id === 'string' && item.id.length > 0)).toBe(true);
    const page = await owner.responses.inputItems.list(created.id, { order: 'asc', limit: 2 });
    expect(page.data.map((item) => item.type)).toEqual(['message', 'message']);
    expect(page.has_more).toBe(true);
    const rest = await owner.responses.inputItems.list(created.id, { order: 'asc', limit: 2, after: page.data[1]!.id });
    expect(rest.data.map((item) => item.type)).toEqual(['function_call', 'function_call_output']);
    // The SDK's auto-pagination follows `after` to the end.
    const all: string[] = [];
    for await (const item of owner.responses.inputItems.list(created.id, { limit: 2 })) all.push(item.id!);
    expect(all).toEqual(newest.data.map((item) => item.id));
  });

  it('an item_reference names a stored output item; the upstream sees its text', async () => {
    fake.enqueueChat({ content: 'The capital is Paris.' });
    const first = await owner.responses.create({ model: 'gpt', input: 'Capital of France?', store: true });
    fake.enqueueChat({ content: 'Yes.' });
    await owner.responses.create({ model: 'gpt', input: [{ type: 'item_reference', id: first.output[0]!.id! }, { role: 'user', content: 'Sure?' }] });
    expect(fake.lastChatBody().messages).toEqual([
      { role: 'assistant', content: 'The capital is Paris.' },
      { role: 'user', content: 'Sure?' },
    ]);
  });

  it('a streamed response is stored before response.completed', async () => {
    const stream = owner.responses.stream({ model: 'free', input: 'stream and keep' });
    const final = await stream.finalResponse();
    const got = await owner.responses.retrieve(final.id);
    expect(got.status).toBe('completed');
    expect(got.output_text).toBe(final.output_text);
  });

  it('admits like chat completions: model permissions and rate limits hold', async () => {
    const narrow = clientFor(gw.url, (await createKey(gw.url, { name: 'narrow', models: ['other'] })).key);
    const forbidden = await apiErrorOf(narrow.responses.create({ model: 'free', input: 'hi' }));
    expect(forbidden.status).toBe(403);
    expect((await narrow.responses.create({ model: 'other', input: 'hi' })).status).toBe('completed');
    const slow = clientFor(gw.url, (await createKey(gw.url, { name: 'slow', rpm: 1 })).key);
    await slow.responses.create({ model: 'free', input: 'one' });
    const limited = await apiErrorOf(slow.responses.create({ model: 'free', input: 'two' }));
    expect(limited.status).toBe(429);
  });

  it('store: false keeps nothing', async () => {
    const created = await owner.responses.create({ model: 'free', input: 'forget me', store: false });
    expect(created).toMatchObject({ store: false });
    expect((await apiErrorOf(owner.responses.retrieve(created.id))).status).toBe(404);
  });

  it('refuses up front a conversation larger than max_stored_bytes, unless it is not stored', async () => {
    const big = 'x'.repeat(70 * 1024);
    const err = await apiErrorOf(owner.responses.create({ model: 'free', input: big }));
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ param: 'input' });
    expect((await owner.responses.create({ model: 'free', input: big, store: false })).status).toBe('completed');
  });

  it('a malformed or oversized id is a clear OpenAI-shaped error, never a store lookup', async () => {
    const headers = { authorization: `Bearer ${owner.apiKey}` };
    const long = await fetch(`${gw.url}/v1/responses/resp_${'a'.repeat(200)}`, { headers });
    expect(long.status).toBe(404);
    expect(await long.json()).toMatchObject({ error: { type: 'not_found_error', code: 'not_found' } });
    const huge = await fetch(`${gw.url}/v1/responses/resp_${'a'.repeat(100_000)}`, { headers });
    expect(huge.status).toBe(431);
    expect(await huge.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect((await apiErrorOf(owner.responses.retrieve('resp_not-ours'))).status).toBe(404);
    const replay = await apiErrorOf(owner.responses.retrieve('resp_x', { stream: true }));
    expect(replay.error).toMatchObject({ param: 'stream' });
  });

  if (store === 'memory') {
    it('a stored response expires after store_ttl_s on the injected clock', async () => {
      const created = await owner.responses.create({ model: 'free', input: 'short-lived' });
      clock += (TTL_S - 1) * 1000;
      expect((await owner.responses.retrieve(created.id)).id).toBe(created.id);
      clock += 2000;
      expect((await apiErrorOf(owner.responses.retrieve(created.id))).status).toBe(404);
    });
  } else {
    it('a stored response is one Redis hash under the key prefix, expiring after store_ttl_s', async () => {
      const created = await owner.responses.create({ model: 'free', input: 'in redis' });
      const redis = new Redis(REDIS_URL);
      try {
        const key = `${keyPrefix}responses:${created.id}`;
        expect(await redis.hget(key, 'owner')).toMatch(/^key:/);
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan((TTL_S - 60) * 1000);
        expect(ttl).toBeLessThanOrEqual(TTL_S * 1000);
      } finally {
        await redis.quit();
      }
    });
  }
});
