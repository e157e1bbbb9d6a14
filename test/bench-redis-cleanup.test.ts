/**
 * `npm run bench` deletes what its gateways wrote to Redis (load-tests/redis-cleanup.ts): every
 * key under its run's prefix, and nothing else, against the real Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { dropKeys } from '../load-tests/redis-cleanup.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const run = uniquePrefix('bench-cleanup');
const neighbour = uniquePrefix('bench-cleanup-neighbour');
afterAll(() => Promise.all([dropPrefix(run), dropPrefix(neighbour)]));

it("deletes every key under the run's prefix, past one SCAN page, and leaves other prefixes alone", async () => {
  const redis = new Redis(REDIS_URL);
  try {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 2500; i++) pipeline.set(`${run}gateway-redis:ledger:${i}`, 'x');
    pipeline.hset(`${run}gateway-keys:key:1`, 'name', 'bench');
    pipeline.set(`${neighbour}kept`, 'y');
    await pipeline.exec();

    expect(await dropKeys(REDIS_URL, run)).toBe(2501);
    expect(await redis.keys(`${run}*`)).toEqual([]);
    expect(await redis.get(`${neighbour}kept`)).toBe('y');
    // Nothing left to delete is not an error.
    expect(await dropKeys(REDIS_URL, run)).toBe(0);
  } finally {
    redis.disconnect();
  }
});

it('fails with the reason when Redis does not answer, rather than hanging', async () => {
  await expect(dropKeys('redis://127.0.0.1:1', run)).rejects.toThrow();
});
