/**
 * The cache's parts on their own: the canonical key, replay chunking and its inverse (the
 * stream collector), the memory LRU (with a controlled clock), the Redis store's size bound
 * and TTL on a real Redis, coalescing, and a store that cannot be reached.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { AnswerCollector } from '../src/cache/answer-collector.js';
import { cacheKey, canonicalJson } from '../src/cache/cache-key.js';
import { planCache } from '../src/cache/cache-plan.js';
import type { CachedAnswer } from '../src/cache/cached-answer.js';
import { MemoryCacheStore } from '../src/cache/memory-cache-store.js';
import { RedisCacheStore } from '../src/cache/redis-cache-store.js';
import { replayChunks, splitPieces } from '../src/cache/replay-chunks.js';
import { ResponseCache } from '../src/cache/response-cache.js';
import type { ChatRequest } from '../src/core/types.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const silent = pino({ level: 'silent' });
const settings = { ttl_s: 60, any_temperature: false, max_entries: 100 };

const answer: CachedAnswer = {
  response: {
    id: 'chatcmpl-1',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'Hello  there,\nworld! 日本語のテキストはスペースなしで続きます 🌍 ' }, finishReason: 'stop' },
      {
        index: 1,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        finishReason: 'tool_calls',
      },
    ],
  },
  usage: { promptTokens: 12, completionTokens: 34, cachedTokens: 0 },
  provider: 'oa',
  costNanoUsd: 1234,
};

describe('cache key', () => {
  const req: ChatRequest = { model: 'fast', temperature: 0, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f', parameters: { a: 1, b: 2 } } }] };

  it('is the same for the same request in any key order, whatever the delivery fields', () => {
    const reordered = JSON.parse('{"tools":[{"function":{"parameters":{"b":2,"a":1},"name":"f"},"type":"function"}],"messages":[{"content":"hi","role":"user"}],"temperature":0,"model":"x"}') as ChatRequest;
    const key = cacheKey('model:fast', 'fast', req);
    expect(cacheKey('model:fast', 'fast', reordered)).toBe(key);
    expect(cacheKey('model:fast', 'fast', { ...req, stream: true, stream_options: { include_usage: true }, user: 'u' })).toBe(key);
    expect(cacheKey('model:other', 'fast', req)).not.toBe(key);
    expect(cacheKey('model:fast', 'fast', { ...req, seed: 1 })).not.toBe(key);
    expect(canonicalJson({ b: [1, { d: 1, c: undefined }], a: null })).toBe('{"a":null,"b":[1,{"d":1}]}');
  });

  it('plans only deterministic calls, honouring cache-control', () => {
    const scope = { namespace: 'model:fast', settings };
    const random = planCache(scope, 'fast', { ...req, temperature: 1 }, undefined);
    expect(random).toMatchObject({ read: false, write: false });
    expect(random.key).toBeUndefined();
    expect(planCache(scope, 'fast', req, 'No-Cache')).toMatchObject({ read: false, write: true });
    expect(planCache(scope, 'fast', req, ['max-age=0', 'no-store'])).toMatchObject({ read: true, write: false });
    expect(planCache({ ...scope, settings: { ...settings, any_temperature: true } }, 'fast', { ...req, temperature: 1 }, undefined).key).toBeDefined();
  });
});

describe('replay chunks', () => {
  it('splits text into word-sized pieces that join back exactly', () => {
    for (const text of ['', ' ', '  lead and trail  ', 'a', 'x'.repeat(40), 'one\ntwo\r\nthree\tfour', '日本語のテキストはスペースなしで続きます', '🌍🌍🌍 ok']) {
      expect(splitPieces(text).join('')).toBe(text);
    }
    expect(splitPieces('Hello there, world!')).toEqual(['Hello ', 'there, ', 'world!']);
  });

  it('are read back by the stream collector into the same answer', () => {
    const collector = new AnswerCollector();
    for (const chunk of replayChunks(answer)) collector.add(chunk);
    const back = collector.finish({ provider: 'oa', model: answer.response.model, created: answer.response.created, usage: answer.usage, costNanoUsd: 1234 });
    expect(back).toEqual({ ...answer, response: { ...answer.response, id: '' } });
  });

  it('are not kept when a choice never finished', () => {
    const collector = new AnswerCollector();
    for (const chunk of replayChunks(answer).filter((c) => !(c.type === 'finish' && c.choice === 1))) collector.add(chunk);
    expect(collector.finish({ provider: 'oa', model: 'm', created: 0, usage: answer.usage, costNanoUsd: 0 })).toBeUndefined();
  });
});

describe('memory store', () => {
  it('expires entries and evicts the least recently used past max_entries', async () => {
    let now = 1_000;
    const store = new MemoryCacheStore(() => now);
    const limits = { ttlMs: 500, maxEntries: 2 };
    await store.set('ns', 'a', 'A', limits);
    await store.set('ns', 'b', 'B', limits);
    expect(await store.get('ns', 'a')).toBe('A'); // a is now the most recently used
    await store.set('ns', 'c', 'C', limits);
    expect(await store.get('ns', 'b')).toBeUndefined();
    expect(await store.get('ns', 'a')).toBe('A');
    expect(await store.get('other', 'a')).toBeUndefined();
    now += 500;
    expect(await store.get('ns', 'c')).toBeUndefined();
    await store.set('ns', 'big', 'x'.repeat(1024 * 1024 + 1), limits);
    expect(await store.get('ns', 'big')).toBeUndefined();
  });
});

describe('Redis store', () => {
  const prefix = uniquePrefix('cache-units');
  const redis = new Redis(REDIS_URL);

  afterAll(async () => {
    await dropPrefix(prefix);
    await redis.quit();
  });

  it('keeps values with a TTL and bounds a namespace by max_entries, oldest first', async () => {
    let now = Date.now();
    const store = new RedisCacheStore(() => redis.duplicate(), prefix, () => now);
    const limits = { ttlMs: 60_000, maxEntries: 2 };
    await store.set('model:g{x}', 'k1', 'v1', limits);
    now += 1;
    await store.set('model:g{x}', 'k2', 'v2', limits);
    expect(await store.get('model:g{x}', 'k1')).toBe('v1');
    now += 1;
    await store.set('model:g{x}', 'k3', 'v3', limits);
    expect(await store.get('model:g{x}', 'k1')).toBeUndefined();
    expect(await store.get('model:g{x}', 'k2')).toBe('v2');
    expect(await store.get('model:g{x}', 'k3')).toBe('v3');
    const entryKey = `${prefix}cache:{model:g_x_}:e:k3`;
    const ttl = await redis.pttl(entryKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.zcard(`${prefix}cache:{model:g_x_}:i`)).toBe(2);
    await store.close();
  });
});

describe('response cache', () => {
  const plan = { namespace: 'model:g', settings, key: 'k', read: true, write: true };

  it('lets one call lead and the identical ones follow, or go on their own when it fails', async () => {
    const cache = new ResponseCache(new MemoryCacheStore(), silent);
    const leader = await cache.acquire(plan);
    expect(leader.kind).toBe('fresh');
    const follower = cache.acquire(plan);
    cache.complete(plan, leader, answer);
    expect(await follower).toEqual({ kind: 'hit', answer });
    expect(await cache.acquire(plan)).toEqual({ kind: 'hit', answer });

    const other = { ...plan, key: 'k2' };
    const failing = await cache.acquire(other);
    const waiting = cache.acquire(other);
    cache.complete(other, failing, undefined);
    expect(await waiting).toEqual({ kind: 'fresh' });
  });

  it('reads an unreachable store as a miss and never throws', async () => {
    const cache = new ResponseCache(
      new RedisCacheStore(() => new Redis({ port: 1, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: false }).on('error', () => undefined), 'x:'),
      silent,
    );
    const ticket = await cache.acquire(plan);
    expect(ticket.kind).toBe('fresh');
    expect(() => cache.complete(plan, ticket, answer)).not.toThrow();
    expect((await cache.acquire({ ...plan, key: 'k3' })).kind).toBe('fresh');
    await cache.close();
  });
});
