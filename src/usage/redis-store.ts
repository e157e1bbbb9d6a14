/**
 * The ledger in Redis. Layout (every key carries the `{ledger}` hash tag, so the one script
 * that touches several keys stays on one Redis Cluster slot):
 * - `<prefix>{ledger}:h:<YYYYMMDDHH>`  hash per UTC hour: field `<tuple JSON><counter code>`
 *   → integer sum, the tuple being (team, key, model, provider, upstream_model, route);
 * - `<prefix>{ledger}:log`             stream of record JSON, capped by length and age;
 * - `<prefix>{ledger}:seen:<batch id>` idempotency marker with a TTL.
 * One Lua script writes a batch atomically: the marker (SET NX) first, so a replayed batch
 * changes nothing; then the increments, pre-summed per bucket and tuple, and the log entries.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  bucketsInRange,
  emptyCounters,
  hourStart,
  matchesLogQuery,
  addRecord,
  tupleOf,
  UsageGrouper,
  type DimensionTuple,
  type LedgerBatch,
  type LedgerStore,
  type LogQuery,
  type UsageCounters,
  type UsageQuery,
  type UsageRow,
} from './ledger-store.js';
import type { LedgerRecord } from './ledger.js';

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
}

/** Counter codes: the last character of a hash field. Order matches COUNTER_FIELDS. */
const COUNTER_CODES = 'rEpckCltnhs';
const COUNTER_FIELDS: readonly (keyof UsageCounters)[] = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'cost_nano_usd',
  'latency_ms_sum',
  'ttft_ms_sum',
  'ttft_count',
  'cache_hits',
  'saved_cost_nano_usd',
];

// KEYS: [seen, log, hour hash 1..m]. ARGV: seen TTL, log MAXLEN, log MINID ('0': none),
// hash TTL ('0': none), aggregate count, log count, then per aggregate (KEYS index, tuple,
// one value per counter code), then one record JSON per log entry. Zero counters are skipped: a missing
// field reads as 0.
const WRITE_BATCH = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local codes = '${COUNTER_CODES}'
local aggs = tonumber(ARGV[5])
local logs = tonumber(ARGV[6])
local i = 7
for _ = 1, aggs do
  local key = KEYS[tonumber(ARGV[i])]
  local tuple = ARGV[i + 1]
  for c = 1, #codes do
    local v = ARGV[i + 1 + c]
    if v ~= '0' then redis.call('HINCRBY', key, tuple .. string.sub(codes, c, c), v) end
  end
  i = i + 2 + #codes
end
for _ = 1, logs do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'r', ARGV[i])
  i = i + 1
end
if ARGV[3] ~= '0' then redis.call('XTRIM', KEYS[2], 'MINID', '~', ARGV[3]) end
if ARGV[4] ~= '0' then
  for k = 3, #KEYS do redis.call('EXPIRE', KEYS[k], ARGV[4]) end
end
return 1
`;
const WRITE_BATCH_SHA = createHash('sha1').update(WRITE_BATCH).digest('hex');

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
      return await this.redis.evalsha(WRITE_BATCH_SHA, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(WRITE_BATCH, keys.length, ...keys, ...args);
    }
  }

  async write(batch: LedgerBatch): Promise<void> {
    if (batch.records.length === 0) return;
    // Pre-sum per (bucket, tuple): a busy batch holds many calls of the same team and model.
    const hashKeys: string[] = [];
    const hashIndex = new Map<number, number>();
    const sums = new Map<string, { keyIndex: number; tuple: string; counters: UsageCounters }>();
    const logs: string[] = [];
    for (const record of batch.records) {
      const bucket = hourStart(record.time);
      let index = hashIndex.get(bucket);
      if (index === undefined) {
        index = hashKeys.length + 3; // KEYS[1] seen, KEYS[2] log, hashes from KEYS[3] (Lua is 1-based)
        hashIndex.set(bucket, index);
        hashKeys.push(`${this.base}h:${hourKey(bucket)}`);
      }
      const tuple = JSON.stringify(tupleOf(record));
      const sumKey = `${index}\n${tuple}`;
      let sum = sums.get(sumKey);
      if (!sum) {
        sum = { keyIndex: index, tuple, counters: emptyCounters() };
        sums.set(sumKey, sum);
      }
      addRecord(sum.counters, record);
      logs.push(JSON.stringify(record));
    }
    const { logMaxRecords, logRetentionDays, usageRetentionDays, dedupeTtlS } = this.options;
    const minId = logRetentionDays > 0 ? `${Date.now() - logRetentionDays * DAY_S * 1000}` : '0';
    const args: (string | number)[] = [dedupeTtlS, logMaxRecords, minId, usageRetentionDays > 0 ? usageRetentionDays * DAY_S : 0, sums.size, logs.length];
    for (const sum of sums.values()) {
      args.push(sum.keyIndex, sum.tuple);
      for (const field of COUNTER_FIELDS) args.push(sum.counters[field]);
    }
    for (const log of logs) args.push(log);
    await this.run([`${this.base}seen:${batch.id}`, `${this.base}log`, ...hashKeys], args);
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const grouper = new UsageGrouper(query.groupBy);
    const buckets = bucketsInRange(query.from, query.to);
    for (let at = 0; at < buckets.length; at += HGETALL_CHUNK) {
      const chunk = buckets.slice(at, at + HGETALL_CHUNK);
      const pipeline = this.redis.pipeline();
      for (const bucket of chunk) pipeline.hgetall(`${this.base}h:${hourKey(bucket)}`);
      const replies = (await pipeline.exec()) ?? [];
      chunk.forEach((bucket, i) => {
        const [err, hash] = replies[i] ?? [new Error('no reply')];
        if (err) throw err;
        this.addHash(grouper, bucket, hash as Record<string, string>);
      });
    }
    return grouper.result();
  }

  private addHash(grouper: UsageGrouper, bucket: number, hash: Record<string, string>): void {
    const perTuple = new Map<string, UsageCounters>();
    for (const field in hash) {
      const tuple = field.slice(0, -1);
      const counter = COUNTER_FIELDS[COUNTER_CODES.indexOf(field.slice(-1))];
      if (!counter) continue;
      let counters = perTuple.get(tuple);
      if (!counters) {
        counters = emptyCounters();
        perTuple.set(tuple, counters);
      }
      counters[counter] += Number(hash[field]);
    }
    for (const [tuple, counters] of perTuple) grouper.add(bucket, JSON.parse(tuple) as DimensionTuple, counters);
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

