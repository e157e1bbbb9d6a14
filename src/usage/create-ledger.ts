import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/types.js';
import { BatchingLedger, type BatchingLedgerOptions } from './batching-ledger.js';
import type { Ledger } from './ledger.js';
import { MemoryLedgerStore } from './memory-store.js';
import { RedisLedgerStore } from './redis-store.js';

/**
 * The gateway's ledger: batched writes to Redis when the instance has a Redis connection,
 * else to the embedded memory store.
 *
 * The Redis store gets a connection of its own, without an offline queue and with no
 * per-command retries: while Redis is away its writes fail at once and the ledger buffers
 * and retries on its own schedule, instead of piling commands up in ioredis in front of the
 * ones the request path issues on the shared connection.
 */
const REDIS_LOG_MAX_RECORDS = 100_000;
const MEMORY_LOG_MAX_RECORDS = 10_000;

export function createGatewayLedger(config: GatewayConfig, redis: Redis | undefined, log: BatchingLedgerOptions['log']): Ledger {
  const settings = config.ledger;
  const options: BatchingLedgerOptions = {
    batchSize: settings.batch_size,
    flushIntervalMs: settings.flush_interval_ms,
    bufferMax: settings.buffer_max,
    writeTimeoutMs: settings.write_timeout_ms,
    spoolDir: settings.spool_dir,
    log,
  };
  if (!redis) {
    // The embedded store holds its log in the gateway's own heap: a shorter default keeps RSS small.
    const logMaxRecords = settings.log_max_records ?? MEMORY_LOG_MAX_RECORDS;
    return new BatchingLedger(new MemoryLedgerStore({ logMaxRecords, usageRetentionDays: settings.usage_retention_days, tagsPerHour: settings.tags_per_hour }), options);
  }
  const connection = redis.duplicate({
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: settings.write_timeout_ms,
    connectionName: 'konnect-ledger',
  });
  // Failures surface as rejected writes, which the ledger counts and retries.
  connection.on('error', () => undefined);
  const store = new RedisLedgerStore(connection, {
    prefix: config.store.key_prefix,
    logMaxRecords: settings.log_max_records ?? REDIS_LOG_MAX_RECORDS,
    logRetentionDays: settings.log_retention_days,
    usageRetentionDays: settings.usage_retention_days,
    dedupeTtlS: settings.dedupe_ttl_s,
    tagsPerHour: settings.tags_per_hour,
  });
  return new BatchingLedger(store, options);
}

/** The store line of `/health`: Redis reachability, and `degraded` while ledger writes fail. */
export function describeStore(ledger: Ledger, redis: Redis | undefined): { type: 'memory' | 'redis'; status: 'ok' | 'degraded' | 'down' } {
  if (!redis) return { type: 'memory', status: 'ok' };
  if (redis.status !== 'ready') return { type: 'redis', status: 'down' };
  return { type: 'redis', status: ledger.stats?.().store_ok === false ? 'degraded' : 'ok' };
}
