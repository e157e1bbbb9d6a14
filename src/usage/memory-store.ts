import {
  addRecord,
  bucketsInRange,
  emptyCounters,
  hourStart,
  HOUR_MS,
  matchesLogQuery,
  readsTags,
  tupleOf,
  UsageGrouper,
  type DimensionTuple,
  type LedgerBatch,
  type LedgerStore,
  type UsageCounters,
} from './ledger-store.js';
import type { LedgerRecord } from './ledger.js';
import { admitTag, DEFAULT_TAGS_PER_HOUR, tagsOf } from './usage-tags.js';

export interface MemoryStoreOptions {
  /** Request log entries kept, newest win. */
  logMaxRecords?: number;
  /** Batch ids remembered for idempotency (default 4,096). */
  seenMaxBatches?: number;
  /** Hour buckets older than this many days are dropped; 0 keeps them. */
  usageRetentionDays?: number;
  /** Distinct tags aggregated per hour bucket; more count as `(other)` (src/usage/usage-tags.ts). */
  tagsPerHour?: number;
}

interface Aggregate {
  tuple: DimensionTuple;
  /** The tag, in the per-tag family; null in the per-call one. */
  tag: string | null;
  counters: UsageCounters;
}

interface Bucket {
  /** Per call, by tuple. */
  tuples: Map<string, Aggregate>;
  /** Per tag of each call: tag → tuple JSON → aggregate (nested, so the tuple's JSON is the only key hashed). */
  tagged: Map<string, Map<string, Aggregate>>;
  /** Tags admitted under the cap this hour. */
  tags: Set<string>;
}

/** `key` is the tuple's JSON. */
function addTo(into: Map<string, Aggregate>, key: string, tuple: DimensionTuple, tag: string | null, record: LedgerRecord): void {
  let entry = into.get(key);
  if (!entry) {
    entry = { tuple, tag, counters: emptyCounters() };
    into.set(key, entry);
  }
  addRecord(entry.counters, record);
}

/**
 * The embedded store: the same aggregates and capped log as Redis, in process memory. Lost
 * on restart, hence not `durable` (the ledger does not spool for it).
 */
export class MemoryLedgerStore implements LedgerStore {
  readonly kind = 'memory';
  readonly durable = false;
  readonly scope = 'memory';
  private readonly buckets = new Map<number, Bucket>();
  private log: LedgerRecord[] = [];
  private readonly seen = new Set<string>();
  private readonly logMax: number;
  private readonly seenMax: number;
  private readonly retentionMs: number;
  private readonly tagsPerHour: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.tagsPerHour = options.tagsPerHour ?? DEFAULT_TAGS_PER_HOUR;
    this.logMax = options.logMaxRecords ?? 100_000;
    // A batch comes again only as the ledger's retry of a write that failed moments ago; a
    // longer memory of ids only holds heap (100,000 of them were ~10 MB, all of it old-space
    // that every full GC marks).
    this.seenMax = options.seenMaxBatches ?? 4_096;
    this.retentionMs = (options.usageRetentionDays ?? 0) * 86_400_000;
  }

  /** Drops expired buckets; runs when a new bucket opens, so about once an hour. */
  private expireBuckets(): void {
    if (this.retentionMs <= 0) return;
    const oldest = Date.now() - this.retentionMs;
    for (const start of this.buckets.keys()) if (start + HOUR_MS <= oldest) this.buckets.delete(start);
  }

  /** Synchronous write, for ledgers that record straight into memory. */
  writeNow(batch: LedgerBatch): void {
    if (this.seen.has(batch.id)) return;
    this.seen.add(batch.id);
    // A Set iterates in insertion order: the first entry is the oldest id.
    if (this.seen.size > this.seenMax) this.seen.delete(this.seen.values().next().value as string);
    for (const record of batch.records) {
      const start = hourStart(record.time);
      let bucket = this.buckets.get(start);
      if (!bucket) {
        bucket = { tuples: new Map(), tagged: new Map(), tags: new Set() };
        this.buckets.set(start, bucket);
        this.expireBuckets();
      }
      const tuple = tupleOf(record);
      const key = JSON.stringify(tuple);
      addTo(bucket.tuples, key, tuple, null, record);
      for (const tag of tagsOf(record.tags)) {
        const stored = admitTag(bucket.tags, tag, this.tagsPerHour);
        let perTag = bucket.tagged.get(stored);
        if (!perTag) bucket.tagged.set(stored, (perTag = new Map()));
        addTo(perTag, key, tuple, stored, record);
      }
      this.log.push(record);
    }
    // Trim in chunks so a full log does not copy itself on every write.
    if (this.log.length > this.logMax * 1.1) this.log = this.log.slice(this.log.length - this.logMax);
  }

  async write(batch: LedgerBatch): Promise<void> {
    this.writeNow(batch);
  }

  async usage(query: Parameters<LedgerStore['usage']>[0]) {
    const grouper = new UsageGrouper(query);
    const byTag = readsTags(query);
    for (const start of bucketsInRange(query.from, query.to)) {
      const bucket = this.buckets.get(start);
      if (!bucket) continue;
      const families = byTag ? [...bucket.tagged.values()] : [bucket.tuples];
      for (const family of families) for (const { tuple, tag, counters } of family.values()) grouper.add(start, tuple, counters, tag);
    }
    return grouper.result();
  }

  async logs(query: Parameters<LedgerStore['logs']>[0]) {
    const out: LedgerRecord[] = [];
    const first = Math.max(0, this.log.length - this.logMax);
    for (let i = this.log.length - 1; i >= first && out.length < query.limit; i--) {
      const record = this.log[i]!;
      if (matchesLogQuery(record, query)) out.push(record);
    }
    return out;
  }

  isUp(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
