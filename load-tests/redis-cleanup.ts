/**
 * Deleting a key prefix from Redis: what a bench run leaves (its gateways' ledgers, up to
 * 100,000 records each, keys, counters and cache entries, all under `bench:<pid>:`; a run left
 * ~300 MB behind before this), and what each test suite leaves under its own prefix
 * (test/helpers/redis.ts).
 */
import { Redis } from 'ioredis';

/** Deletes every key under `prefix` (SCAN + UNLINK, on a connection of its own); answers how many. */
export async function dropKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  // A refused connection reaches the caller as connect()'s rejection; the event would only be logged twice.
  redis.on('error', () => undefined);
  let dropped = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) dropped += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return dropped;
}
