/**
 * Where ledger records end up: aggregates per hour bucket and dimension tuple (for usage
 * reports over any grouping) plus a capped request log. One interface, a memory and a Redis
 * implementation; the contract suite in test/ledger-store.test.ts runs against both.
 */
import type { LedgerRecord } from './ledger-record.js';

/** A set of records written together; `id` makes the write idempotent (a replay counts once). */
export interface LedgerBatch {
  id: string;
  records: readonly LedgerRecord[];
}

/** Dimensions a usage report can group by. `day` and `hour` are UTC. */
export const USAGE_DIMENSIONS = ['team', 'key', 'model', 'provider', 'route', 'upstream_model', 'day', 'hour'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

/** Integer sums kept per hour bucket and dimension tuple. */
export interface UsageCounters {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost_nano_usd: number;
  latency_ms_sum: number;
  ttft_ms_sum: number;
  /** Records with a time to first token (streams). */
  ttft_count: number;
  /** Calls answered from the response cache. */
  cache_hits: number;
  /** What those answers cost when they were fetched, nano-USD. */
  saved_cost_nano_usd: number;
}

export interface UsageQuery {
  /** Epoch ms, inclusive: hour buckets that end after it count. */
  from: number;
  /** Epoch ms, exclusive: hour buckets that start before it count. */
  to: number;
  groupBy: readonly UsageDimension[];
}

export interface UsageRow {
  /** The group's value for each `groupBy` dimension (null: not set, e.g. anonymous calls). */
  dims: Partial<Record<UsageDimension, string | null>>;
  counters: UsageCounters;
}

export interface LogQuery {
  limit: number;
  /** Epoch ms: records that started at or after it. */
  since?: number;
  keyId?: string;
  /** Matches the model group or the upstream model. */
  model?: string;
  /** An exact status, or a class as its first digit (4 → 4xx). */
  status?: { exact: number } | { class: number };
}

/** Where batches of records go: the ledger's store, or another consumer that must lose none (spend settlement). */
export interface RecordSink {
  /** True when records survive a restart, so records that could not be written are worth spooling. */
  readonly durable: boolean;
  /** A string naming where the data lives (no secrets), to keep spool files of different sinks apart. */
  readonly scope: string;
  /** Writes a batch; writing a batch id again is a no-op. Rejects when the sink is unreachable. */
  write(batch: LedgerBatch): Promise<void>;
  close(): Promise<void>;
}

export interface LedgerStore extends RecordSink {
  readonly kind: 'memory' | 'redis';
  /** Aggregates over hour buckets overlapping [from, to), grouped by `groupBy`. */
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /** Recent records, most recently recorded first (the order calls finished, not started). */
  logs(query: LogQuery): Promise<LedgerRecord[]>;
  /** Whether the store answers right now (no I/O). */
  isUp(): boolean;
}

export const HOUR_MS = 3_600_000;

export function hourStart(time: number): number {
  return Math.floor(time / HOUR_MS) * HOUR_MS;
}

export function emptyCounters(): UsageCounters {
  return {
    requests: 0,
    errors: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_tokens: 0,
    cost_nano_usd: 0,
    latency_ms_sum: 0,
    ttft_ms_sum: 0,
    ttft_count: 0,
    cache_hits: 0,
    saved_cost_nano_usd: 0,
  };
}

/** Adds one record's contribution; all values are integers. */
export function addRecord(into: UsageCounters, record: LedgerRecord): void {
  into.requests += 1;
  if (record.status >= 400) into.errors += 1;
  into.prompt_tokens += Math.round(record.prompt_tokens);
  into.completion_tokens += Math.round(record.completion_tokens);
  into.cached_tokens += Math.round(record.cached_tokens);
  into.cost_nano_usd += Math.round(record.cost_nano_usd);
  into.latency_ms_sum += Math.round(record.latency_ms);
  if (record.ttft_ms !== null) {
    into.ttft_ms_sum += Math.round(record.ttft_ms);
    into.ttft_count += 1;
  }
  if (record.cache_hit) into.cache_hits += 1;
  if (record.saved_cost_nano_usd) into.saved_cost_nano_usd += Math.round(record.saved_cost_nano_usd);
}

export function addCounters(into: UsageCounters, from: UsageCounters): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.prompt_tokens += from.prompt_tokens;
  into.completion_tokens += from.completion_tokens;
  into.cached_tokens += from.cached_tokens;
  into.cost_nano_usd += from.cost_nano_usd;
  into.latency_ms_sum += from.latency_ms_sum;
  into.ttft_ms_sum += from.ttft_ms_sum;
  into.ttft_count += from.ttft_count;
  into.cache_hits += from.cache_hits;
  into.saved_cost_nano_usd += from.saved_cost_nano_usd;
}

/** The stored dimension tuple, in a fixed order; `day`/`hour` come from the bucket. */
export type DimensionTuple = [team: string | null, key: string | null, model: string | null, provider: string | null, upstream_model: string | null, route: string];

export function tupleOf(record: LedgerRecord): DimensionTuple {
  return [record.team, record.key_id, record.model, record.provider, record.upstream_model, record.route];
}

const TUPLE_INDEX: Record<Exclude<UsageDimension, 'day' | 'hour'>, number> = { team: 0, key: 1, model: 2, provider: 3, upstream_model: 4, route: 5 };

function dimensionValue(dim: UsageDimension, tuple: DimensionTuple, bucket: number): string | null {
  if (dim === 'day') return new Date(bucket).toISOString().slice(0, 10);
  if (dim === 'hour') return `${new Date(bucket).toISOString().slice(0, 13)}:00:00Z`;
  return tuple[TUPLE_INDEX[dim]] ?? null;
}

/**
 * Groups per-bucket tuples into report rows. Both stores feed it the same (bucket, tuple,
 * counters) triples, so a report is the same whichever store holds the data.
 */
export class UsageGrouper {
  private readonly rows = new Map<string, UsageRow>();

  constructor(private readonly groupBy: readonly UsageDimension[]) {}

  add(bucket: number, tuple: DimensionTuple, counters: UsageCounters): void {
    const values = this.groupBy.map((dim) => dimensionValue(dim, tuple, bucket));
    const key = JSON.stringify(values);
    let row = this.rows.get(key);
    if (!row) {
      const dims: UsageRow['dims'] = {};
      this.groupBy.forEach((dim, i) => (dims[dim] = values[i] ?? null));
      row = { dims, counters: emptyCounters() };
      this.rows.set(key, row);
    }
    addCounters(row.counters, counters);
  }

  result(): UsageRow[] {
    return [...this.rows.values()];
  }
}

/** Hour buckets overlapping [from, to), oldest first. */
export function bucketsInRange(from: number, to: number): number[] {
  const out: number[] = [];
  for (let bucket = hourStart(from); bucket < to; bucket += HOUR_MS) out.push(bucket);
  return out;
}

export function matchesLogQuery(record: LedgerRecord, query: LogQuery): boolean {
  if (query.since !== undefined && record.time < query.since) return false;
  if (query.keyId !== undefined && record.key_id !== query.keyId) return false;
  if (query.model !== undefined && record.model !== query.model && record.upstream_model !== query.model) return false;
  if (query.status) {
    if ('exact' in query.status ? record.status !== query.status.exact : Math.floor(record.status / 100) !== query.status.class) return false;
  }
  return true;
}
