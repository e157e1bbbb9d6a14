/**
 * The ledger in Redis. Layout (every key carries the `{ledger}` hash tag, so the one script
 * that touches several keys stays on one Redis Cluster slot):
 * - `<prefix>{ledger}:h:<YYYYMMDDHH>`    hash per UTC hour: per-call aggregates, counters and
 *   latency histograms by dimension tuple (fields: src/usage/redis-aggregates.ts);
 * - `<prefix>{ledger}:t:<YYYYMMDDHH>`    hash per UTC hour: the same per tag of each call;
 * - `<prefix>{ledger}:tags:<YYYYMMDDHH>` set of the tags that hour admitted under the cap;
 * - `<prefix>{ledger}:log`               stream of record JSON, capped by length and age;
 * - `<prefix>{ledger}:seen:<batch id>`   idempotency marker with a TTL.
 * One Lua script writes a batch atomically: the marker (SET NX) first, so a replayed batch
 * changes nothing; then the increments, pre-summed per bucket and tuple, and the log entries.
 */
import type { Redis } from 'ioredis';
import {
  addRecord,
  bucketsInRange,
  emptyCounters,
  hourStart,
  matchesLogQuery,
  readsTags,
  tupleOf,
  UsageGrouper,
  type LedgerBatch,
  type LedgerStore,
  type LogQuery,
  type UsageQuery,
  type UsageRow,
} from './ledger-store.js';
import type { LedgerRecord } from './ledger.js';
import { parseHash, pushAggregate, WRITE_BATCH_SCRIPT, type PendingAggregate } from './redis-aggregates.js';
import { DEFAULT_TAGS_PER_HOUR, tagsOf } from './usage-tags.js';

export interface RedisStoreOptions {
  /** Key prefix, e.g. `konnect:`. */
  prefix: string;
  /** Request log entries kept (approximate, `MAXLEN ~`). */
  logMaxRecords: number;
  /** Request log entries older than this are trimmed, days; 0 keeps them until the length cap. */
  logRetentionDays: number;
  /** Hour buckets expire after this many days; 0 keeps them forever. */
  usageRetentionDays: number;
  /** How long a written batch id is remembered, s: replays later than this would count again. */
  dedupeTtlS: number;
  /** Distinct tags aggregated per hour; more count as `(other)`. Default 100. */
  tagsPerHour?: number;
}

const DAY_S = 86_400;
const LOG_PAGE = 500;
/** A log query reads at most this many entries, so filters on a rare value stay cheap. */
const LOG_SCAN_MAX = 20_000;
const HGETALL_CHUNK = 256;

function hourKey(bucket: number): string {
  return new Date(bucket).toISOString().slice(0, 13).replace(/[-T]/g, '');
}

/** `<prefix>{ledger}:`: a cluster hash tag of its own so a foreign prefix with braces cannot split the slot. */
function keyBase(prefix: string): string {
  return `${prefix}{ledger}:`;
}

export class RedisLedgerStore implements LedgerStore {
  readonly kind = 'redis';
  readonly durable = true;
  readonly scope: string;
  private readonly base: string;

  /** `redis` is owned by the store from here on: `close()` quits it. */
  constructor(
    private readonly redis: Redis,
    private readonly options: RedisStoreOptions,
  ) {
    this.base = keyBase(options.prefix);
    const { host, port, db, path } = redis.options;
    this.scope = `redis://${path ?? `${host}:${port}`}/${db ?? 0}/${options.prefix}`;
  }

  private async run(keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(WRITE_BATCH_SCRIPT.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(WRITE_BATCH_SCRIPT.source, keys.length, ...keys, ...args);
    }
  }

  async write(batch: LedgerBatch): Promise<void> {
    if (batch.records.length === 0) return;
    // KEYS[1] seen, KEYS[2] log, the hour keys from KEYS[3] (Lua is 1-based).
    const hourKeys: string[] = [];
    const keyIndex = new Map<string, number>();
    const indexOf = (key: string): number => {
      let index = keyIndex.get(key);
      if (index === undefined) {
        index = hourKeys.length + 3;
        keyIndex.set(key, index);
        hourKeys.push(key);
      }
      return index;
    };
    // Pre-sum per (hash, tag, tuple): a busy batch holds many calls of the same team and model.
    const sums = new Map<string, PendingAggregate>();
    const add = (hashIndex: number, tagSetIndex: number, tag: string, tuple: string, record: LedgerRecord): void => {
      const sumKey = `${hashIndex} ${tag} ${tuple}`;
      let sum = sums.get(sumKey);
      if (!sum) {
        sum = { hashIndex, tagSetIndex, tag, tuple, counters: emptyCounters() };
        sums.set(sumKey, sum);
      }
      addRecord(sum.counters, record);
    };
    const logs: string[] = [];
    for (const record of batch.records) {
      const hour = hourKey(hourStart(record.time));
      const tuple = JSON.stringify(tupleOf(record));
      add(indexOf(`${this.base}h:${hour}`), 0, '', tuple, record);
      const tagged = indexOf(`${this.base}t:${hour}`);
      const tagSet = indexOf(`${this.base}tags:${hour}`);
      for (const tag of tagsOf(record.tags)) add(tagged, tagSet, tag, tuple, record);
      logs.push(JSON.stringify(record));
    }
    const { logMaxRecords, logRetentionDays, usageRetentionDays, dedupeTtlS, tagsPerHour } = this.options;
    const minId = logRetentionDays > 0 ? `${Date.now() - logRetentionDays * DAY_S * 1000}` : '0';
    const ttl = usageRetentionDays > 0 ? usageRetentionDays * DAY_S : 0;
    const args: (string | number)[] = [dedupeTtlS, logMaxRecords, minId, ttl, tagsPerHour ?? DEFAULT_TAGS_PER_HOUR, sums.size, logs.length];
    for (const sum of sums.values()) pushAggregate(args, sum);
    for (const log of logs) args.push(log);
    await this.run([`${this.base}seen:${batch.id}`, `${this.base}log`, ...hourKeys], args);
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const grouper = new UsageGrouper(query);
    const tagged = readsTags(query);
    const family = tagged ? 't' : 'h';
    const buckets = bucketsInRange(query.from, query.to);
    for (let at = 0; at < buckets.length; at += HGETALL_CHUNK) {
      const chunk = buckets.slice(at, at + HGETALL_CHUNK);
      const pipeline = this.redis.pipeline();
      for (const bucket of chunk) pipeline.hgetall(`${this.base}${family}:${hourKey(bucket)}`);
      const replies = (await pipeline.exec()) ?? [];
      chunk.forEach((bucket, i) => {
        const [err, hash] = replies[i] ?? [new Error('no reply')];
        if (err) throw err;
        for (const agg of parseHash(hash as Record<string, string>, tagged)) grouper.add(bucket, agg.tuple, agg.counters, agg.tag);
      });
    }
    return grouper.result();
  }

  async logs(query: LogQuery): Promise<LedgerRecord[]> {
    const key = `${this.base}log`;
    const out: LedgerRecord[] = [];
    let end = '+';
    let scanned = 0;
    while (out.length < query.limit && scanned < LOG_SCAN_MAX) {
      const page = await this.redis.xrevrange(key, end, '-', 'COUNT', LOG_PAGE);
      for (const [id, fields] of page) {
        // An entry's id is its write time, never earlier than its record's start: past `since`, nothing newer is left.
        if (query.since !== undefined && Number(id.slice(0, id.indexOf('-'))) < query.since) return out;
        const json = fields[1];
        if (json === undefined) continue;
        const record = JSON.parse(json) as LedgerRecord;
        if (matchesLogQuery(record, query)) {
          out.push(record);
          if (out.length >= query.limit) break;
        }
      }
      scanned += page.length;
      if (page.length < LOG_PAGE) break;
      end = `(${page[page.length - 1]![0]}`;
    }
    return out;
  }

  isUp(): boolean {
    return this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

