import { Redis } from 'ioredis';

/**
 * The shared Redis connection of one gateway instance. Commands issued while Redis is down
 * fail fast instead of queueing without bound, so callers can buffer or degrade on their own
 * terms; ioredis keeps reconnecting in the background.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
