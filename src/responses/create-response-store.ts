import type { Redis } from 'ioredis';
import type { ResponsesConfig } from '../config/types.js';
import { MemoryResponseStore } from './memory-response-store.js';
import { RedisResponseStore } from './redis-response-store.js';
import { StoredResponses } from './stored-responses.js';

/**
 * Stored responses in Redis when the instance has one (every instance then reads what another
 * stored), else in process memory on the injected clock. `config` is read per request, so the
 * TTL and size bound follow the current config; the memory bound is fixed at start.
 */
export function createStoredResponses(
  redis: Redis | undefined,
  keyPrefix: string,
  config: () => ResponsesConfig,
  now: () => number = Date.now,
): StoredResponses {
  const store = redis ? new RedisResponseStore(redis, keyPrefix) : new MemoryResponseStore(config().memory_max_bytes, now);
  return new StoredResponses(store, config);
}
