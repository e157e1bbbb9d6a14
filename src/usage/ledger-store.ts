/**
 * Where ledger records end up: aggregates per hour bucket and dimension tuple (for usage
 * reports over any grouping) plus a capped request log. One interface, a memory and a Redis
 * implementation; the contract suite in test/ledger-store.test.ts runs against both.
 */
import type { LedgerRecord } from './ledger-record.js';
import { mergeHistogram, observe, type SparseHistogram } from './latency-histogram.js';

/** A set of records written together; `id` makes the write idempotent (a replay counts once). */
export interface LedgerBatch {
  id: string;
  records: readonly LedgerRecord[];
}

/**
 * Dimensions a usage report can group by. `day` and `hour` are UTC; `status` is the HTTP status
 * as text; `tag` reads the per-tag aggregates (src/usage/usage-tags.ts).
 */
export const USAGE_DIMENSIONS = ['team', 'key', 'model', 'provider', 'route', 'upstream_model', 'status', 'tag', 'day', 'hour'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

/** What is kept per hour bucket and dimension tuple: integer sums and two latency histograms. */
export interface UsageCounters extends NumericCounters {
  /** Every call's latency, ms (src/usage/latency-histogram.ts). */
  latency_hist: SparseHistogram;
  /** Time to first token of the calls that have one, ms. */
  ttft_hist: SparseHistogram;
}

/** The integer sums of UsageCounters. */
export interface NumericCounters {
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

/** Keeps the aggregates whose value of `dim` passes; built by src/usage/filter-usage.ts. */
export interface UsageFilter {
  dim: Exclude<UsageDimension, 'day' | 'hour'>;
  matches(value: string | null): boolean;
}

export interface UsageQuery {
  /** Epoch ms, inclusive: hour buckets that end after it count. */
  from: number;
  /** Epoch ms, exclusive: hour buckets that start before it count. */
  to: number;
  groupBy: readonly UsageDimension[];
  /** All must pass. A filter or grouping on `tag` reads the per-tag aggregates. */
  filters?: readonly UsageFilter[];
}

/** True when a query needs the per-tag aggregates, where a call with n tags counts n times. */
export function readsTags(query: UsageQuery): boolean {
  return query.groupBy.includes('tag') || (query.filters ?? []).some((filter) => filter.dim === 'tag');
}

export interface UsageRow {
  /** The group's value for each `groupBy` dimension (null: not set, e.g. anonymous calls). */
  dims: Partial<Record<UsageDimension, string | null>>;
  counters: UsageCounters;
}

/** An exact HTTP status (429), or a class as its first digit (5 → 5xx). */
export type StatusFilter = { exact: number } | { class: number };

export function matchesStatus(status: number, filter: StatusFilter): boolean {
  return 'exact' in filter ? status === filter.exact : Math.floor(status / 100) === filter.class;
}

export interface LogQuery {
  limit: number;
  /** Epoch ms: records that started at or after it. */
  since?: number;
  keyId?: string;
  /** Matches the model group or the upstream model. */
  model?: string;
  team?: string;
  provider?: string;
  route?: string;
  /** One of the record's tags. */
  tag?: string;
  /** An exact status, or a class as its first digit (4 → 4xx). */
  status?: StatusFilter;
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
    latency_hist: new Map(),
    ttft_hist: new Map(),
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
  const latency = Math.round(record.latency_ms);
  into.latency_ms_sum += latency;
  observe(into.latency_hist, latency);
  if (record.ttft_ms !== null) {
    const ttft = Math.round(record.ttft_ms);
    into.ttft_ms_sum += ttft;
    into.ttft_count += 1;
    observe(into.ttft_hist, ttft);
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
  mergeHistogram(into.latency_hist, from.latency_hist);
  mergeHistogram(into.ttft_hist, from.ttft_hist);
}

/**
 * The stored dimension tuple, in a fixed order; `day`/`hour` come from the bucket, `tag` from
 * the aggregate family. Aggregates written before `status` was stored have six entries, and
 * read back with a status of null.
 */
export type DimensionTuple = [team: string | null, key: string | null, model: string | null, provider: string | null, upstream_model: string | null, route: string, status: string];

export function tupleOf(record: LedgerRecord): DimensionTuple {
  return [record.team, record.key_id, record.model, record.provider, record.upstream_model, record.route, String(record.status)];
}

const TUPLE_INDEX: Record<Exclude<UsageDimension, 'day' | 'hour' | 'tag'>, number> = { team: 0, key: 1, model: 2, provider: 3, upstream_model: 4, route: 5, status: 6 };

function dimensionValue(dim: UsageDimension, tuple: DimensionTuple, bucket: number, tag: string | null): string | null {
  if (dim === 'day') return new Date(bucket).toISOString().slice(0, 10);
  if (dim === 'hour') return `${new Date(bucket).toISOString().slice(0, 13)}:00:00Z`;
  if (dim === 'tag') return tag;
  return tuple[TUPLE_INDEX[dim]] ?? null;
}

/**
 * Filters per-bucket tuples and groups them into report rows. Both stores feed it the same
 * (bucket, tuple, tag, counters) entries, so a report is the same whichever store holds the data.
 */
export class UsageGrouper {
  private readonly rows = new Map<string, UsageRow>();
  private readonly groupBy: readonly UsageDimension[];
  private readonly filters: readonly UsageFilter[];

  constructor(query: Pick<UsageQuery, 'groupBy' | 'filters'>) {
    this.groupBy = query.groupBy;
    this.filters = query.filters ?? [];
  }

  /** `tag` is the aggregate's tag in the per-tag family, null in the per-call one. */
  add(bucket: number, tuple: DimensionTuple, counters: UsageCounters, tag: string | null = null): void {
    for (const filter of this.filters) if (!filter.matches(dimensionValue(filter.dim, tuple, bucket, tag))) return;
    const values = this.groupBy.map((dim) => dimensionValue(dim, tuple, bucket, tag));
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
  if (query.team !== undefined && record.team !== query.team) return false;
  if (query.provider !== undefined && record.provider !== query.provider) return false;
  if (query.route !== undefined && record.route !== query.route) return false;
  if (query.tag !== undefined && !record.tags.includes(query.tag)) return false;
  if (query.status && !matchesStatus(record.status, query.status)) return false;
  return true;
}
