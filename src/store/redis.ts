import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { loadIoredis } from './lazy-packages.js';
import type { RedisNodeConfig, StoreConfig } from '../config/types.js';

/**
 * Options of the shared connection. Commands issued while Redis is down fail fast instead of
 * queueing without bound, and a command Redis does not answer (a paused server, a partition
 * that sends no reset) fails after `commandTimeout`: the access stage reads this connection
 * on the request path and answers 503 rather than hanging. Callers can buffer or degrade on
 * their own terms; ioredis keeps reconnecting in the background.
 */
const COMMON = {
  lazyConnect: false,
  enableOfflineQueue: true,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: 2000,
  retryStrategy: (times: number) => Math.min(times * 200, 2000),
} satisfies RedisOptions;

/** The shared Redis connection of one gateway instance (see COMMON). */
export function createRedis(url: string): Redis {
  return new (loadIoredis().Redis)(url, COMMON);
}

/** How the `store` settings reach Redis: one node, a Sentinel set, a Cluster, or no Redis at all. */
export type RedisTopology =
  | { mode: 'none' }
  | { mode: 'single'; url: string }
  | { mode: 'sentinel'; options: RedisOptions }
  | { mode: 'cluster'; nodes: RedisNodeConfig[]; options: ClusterOptions };

/** True when the settings name a Redis (any topology). */
export function hasRedis(store: StoreConfig): boolean {
  return redisTopology(store).mode !== 'none';
}

/** The user, password, db and TLS that `redis_url` carries, for Sentinel masters and Cluster nodes. */
function credentialsOf(url: string): Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> {
  if (!url) return {};
  const parsed = new URL(url);
  const options: Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> = {};
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = Number(parsed.pathname.slice(1));
  if (parsed.pathname.length > 1 && Number.isInteger(db)) options.db = db;
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}

export function redisTopology(store: StoreConfig): RedisTopology {
  const nodes = (list: RedisNodeConfig[]) => list.map(({ host, port }) => ({ host, port }));
  if (store.cluster_nodes && store.cluster_nodes.length > 0) {
    // Cluster has no databases: db 0 only.
    const { db: _db, ...credentials } = credentialsOf(store.redis_url);
    return {
      mode: 'cluster',
      nodes: nodes(store.cluster_nodes),
      options: {
        enableOfflineQueue: COMMON.enableOfflineQueue,
        clusterRetryStrategy: COMMON.retryStrategy,
        redisOptions: { connectTimeout: COMMON.connectTimeout, commandTimeout: COMMON.commandTimeout, maxRetriesPerRequest: COMMON.maxRetriesPerRequest, ...credentials },
      },
    };
  }
  if (store.sentinels && store.sentinels.length > 0) {
    return {
      mode: 'sentinel',
      options: {
        ...COMMON,
        ...credentialsOf(store.redis_url),
        sentinels: nodes(store.sentinels),
        name: store.sentinel_name,
        ...(store.sentinel_password ? { sentinelPassword: store.sentinel_password } : {}),
      },
    };
  }
  if (store.redis_url) return { mode: 'single', url: store.redis_url };
  return { mode: 'none' };
}

/**
 * The instance's Redis from the `store` settings; undefined without one. A Cluster client is
 * handed out under the `Redis` type: the commands the gateway uses are the same, scripts and
 * transactions keep their keys in one slot with hash tags, and `duplicate()` makes another
 * cluster client (options given to it are not applied on a Cluster).
 */
export function createStoreRedis(store: StoreConfig): Redis | undefined {
  const topology = redisTopology(store);
  switch (topology.mode) {
    case 'none':
      return undefined;
    case 'single':
      return createRedis(topology.url);
    case 'sentinel':
      return new (loadIoredis().Redis)(topology.options);
    case 'cluster':
      return new (loadIoredis().Cluster)(topology.nodes, topology.options) as unknown as Redis;
    default: {
      const unreachable: never = topology;
      return unreachable;
    }
  }
}
