import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { MemoryCacheStore } from './memory-cache-store.js';
import { RedisCacheStore } from './redis-cache-store.js';
import { ResponseCache } from './response-cache.js';

/** Slower than this, a cache command counts as failed: the call goes upstream instead of waiting. */
const COMMAND_TIMEOUT_MS = 1000;

/**
 * The response cache in Redis when the instance has one (shared by every instance), else in
 * process memory. The Redis store gets a connection of its own, made on first use, with no
 * per-command retries: while Redis is away, lookups fail fast and read as misses.
 */
export function createResponseCache(redis: Redis | undefined, keyPrefix: string, log: FastifyBaseLogger, now: () => number = Date.now): ResponseCache {
  if (!redis) return new ResponseCache(new MemoryCacheStore(now), log);
  const connect = () => {
    const connection = redis.duplicate({ maxRetriesPerRequest: 0, commandTimeout: COMMAND_TIMEOUT_MS, connectionName: 'konnect-cache' });
    // Failures surface as rejected commands, which the cache treats as misses.
    connection.on('error', () => undefined);
    return connection;
  };
  return new ResponseCache(new RedisCacheStore(connect, keyPrefix), log);
}
