/**
 * The cache in Redis, shared by every instance. Per namespace (its own cluster hash tag):
 * - `<prefix>cache:{<namespace>}:e:<key>`  the answer, with a TTL (SET PX);
 * - `<prefix>cache:{<namespace>}:i`        sorted set of keys by expiry time, the size bound.
 * One Lua script stores an entry atomically: SET, index it, drop expired index members, and
 * past `max_entries` delete the entries that expire first (the oldest, as a namespace has one
 * TTL). Reads are a plain GET: a hit costs one round trip and writes nothing.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MAX_ENTRY_BYTES, type CacheStore, type EntryLimits } from './cache-store.js';
import { coalesceWrites } from '../store/coalesced-writes.js';

// KEYS: entry, index. ARGV: value, ttl ms, now ms, max entries, member (the key), entry key prefix.
const STORE_ENTRY = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local now = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local victims = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #victims, 2 do redis.call('DEL', ARGV[6] .. victims[i]) end
end
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
`;
const STORE_ENTRY_SHA = createHash('sha1').update(STORE_ENTRY).digest('hex');

export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis';
  private client?: Redis;

  /**
   * `connect` makes the store's own connection on first use, so instances without a cache
   * hold none; the store closes it.
   */
  constructor(
    private readonly connect: () => Redis,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  private redis(): Redis {
    this.client ??= this.connect();
    return this.client;
  }

  /** Braces would split the cluster hash tag; a namespace never needs them. */
  private base(namespace: string): string {
    return `${this.prefix}cache:{${namespace.replace(/[{}]/g, '_')}}:`;
  }

  async get(namespace: string, key: string): Promise<string | undefined> {
    const redis = this.redis();
    coalesceWrites(redis);
    const value = await redis.get(`${this.base(namespace)}e:${key}`);
    return value ?? undefined;
  }

  async set(namespace: string, key: string, value: string, limits: EntryLimits): Promise<void> {
    if (Buffer.byteLength(value) > MAX_ENTRY_BYTES) return;
    const base = this.base(namespace);
    const keys = [`${base}e:${key}`, `${base}i`];
    const args = [value, Math.round(limits.ttlMs), this.now(), limits.maxEntries, key, `${base}e:`];
    const redis = this.redis();
    try {
      await redis.evalsha(STORE_ENTRY_SHA, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      await redis.eval(STORE_ENTRY, keys.length, ...keys, ...args);
    }
  }

  async close(): Promise<void> {
    await this.client?.quit().catch(() => this.client?.disconnect());
  }
}
