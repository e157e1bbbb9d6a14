import {
  addRecord,
  bucketsInRange,
  emptyCounters,
  hourStart,
  HOUR_MS,
  matchesLogQuery,
  tupleOf,
  UsageGrouper,
  type DimensionTuple,
  type LedgerBatch,
  type LedgerStore,
  type UsageCounters,
} from './ledger-store.js';
import type { LedgerRecord } from './ledger.js';

export interface MemoryStoreOptions {
  /** Request log entries kept, newest win. */
  logMaxRecords?: number;
  /** Batch ids remembered for idempotency. */
  seenMaxBatches?: number;
  /** Hour buckets older than this many days are dropped; 0 keeps them. */
  usageRetentionDays?: number;
}

interface Bucket {
  tuples: Map<string, { tuple: DimensionTuple; counters: UsageCounters }>;
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

  constructor(options: MemoryStoreOptions = {}) {
    this.logMax = options.logMaxRecords ?? 100_000;
    this.seenMax = options.seenMaxBatches ?? 100_000;
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
        bucket = { tuples: new Map() };
        this.buckets.set(start, bucket);
        this.expireBuckets();
      }
      const tuple = tupleOf(record);
      const key = JSON.stringify(tuple);
      let entry = bucket.tuples.get(key);
      if (!entry) {
        entry = { tuple, counters: emptyCounters() };
        bucket.tuples.set(key, entry);
      }
      addRecord(entry.counters, record);
      this.log.push(record);
    }
    // Trim in chunks so a full log does not copy itself on every write.
    if (this.log.length > this.logMax * 1.1) this.log = this.log.slice(this.log.length - this.logMax);
  }

  async write(batch: LedgerBatch): Promise<void> {
    this.writeNow(batch);
  }

  async usage(query: Parameters<LedgerStore['usage']>[0]) {
    const grouper = new UsageGrouper(query.groupBy);
    for (const start of bucketsInRange(query.from, query.to)) {
      const bucket = this.buckets.get(start);
      if (!bucket) continue;
      for (const { tuple, counters } of bucket.tuples.values()) grouper.add(start, tuple, counters);
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
