/**
 * How the Redis ledger store lays out hourly aggregates, and the one Lua script that writes a
 * batch. Each aggregate is a set of hash fields `<tuple JSON><suffix>` → integer, so
 * instances merge by HINCRBY and a report adds fields up:
 * - the tuple is (team, key, model, provider, upstream_model, route, status) in the per-call hash
 *   `h:<hour>`, and (tag, team, …, status) in the per-tag hash `t:<hour>`;
 * - the suffix is one counter code (COUNTER_CODES), or `L<bucket>` / `F<bucket>` for a bucket of
 *   the latency / time-to-first-token histogram (src/usage/latency-histogram.ts), sparse.
 * A tuple JSON ends with `]` and no suffix holds one, so the last `]` splits a field.
 */
import { createHash } from 'node:crypto';
import { parseBucket, type SparseHistogram } from './latency-histogram.js';
import { emptyCounters, type DimensionTuple, type NumericCounters, type UsageCounters } from './ledger-store.js';
import { OTHER_TAG } from './usage-tags.js';

/** Counter codes: the suffix of a counter's field. Order matches COUNTER_FIELDS. */
const COUNTER_CODES = 'rEpckCltnhs';
const COUNTER_FIELDS: readonly (keyof NumericCounters)[] = [
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
const LATENCY_SUFFIX = 'L';
const TTFT_SUFFIX = 'F';

// KEYS: [seen, log, then the hour keys: per-call hashes, per-tag hashes, per-hour tag sets].
// ARGV: seen TTL, log MAXLEN, log MINID ('0': none), key TTL ('0': none), tags per hour,
// aggregate count, log count; then per aggregate: KEYS index of its hash, KEYS index of its
// hour's tag set ('0': a per-call aggregate), the tag, the tag as JSON, the tuple JSON, one value
// per counter code, the number of histogram fields and (suffix, value) for each; then one
// record JSON per log entry. Zero counters are skipped: a missing field reads as 0.
// A tag not yet in its hour's set joins it while the set is below the cap, else it is counted as
// OTHER_TAG; tags starting with `(` are the built-in ones and take no place in the set. Doing
// this inside the script keeps the cap exact with many instances writing at once.
const WRITE_BATCH = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local codes = '${COUNTER_CODES}'
local cap = tonumber(ARGV[5])
local aggs = tonumber(ARGV[6])
local logs = tonumber(ARGV[7])
local admitted = {}
local i = 8
for _ = 1, aggs do
  local key = KEYS[tonumber(ARGV[i])]
  local setIndex = tonumber(ARGV[i + 1])
  local prefix = ARGV[i + 4]
  if setIndex > 0 then
    local set = KEYS[setIndex]
    local tag = ARGV[i + 2]
    local memo = set .. ' ' .. tag
    local json = admitted[memo]
    if not json then
      json = ARGV[i + 3]
      if string.sub(tag, 1, 1) ~= '(' and redis.call('SISMEMBER', set, tag) == 0 then
        if redis.call('SCARD', set) < cap then redis.call('SADD', set, tag) else json = '"${OTHER_TAG}"' end
      end
      admitted[memo] = json
    end
    prefix = '[' .. json .. ',' .. string.sub(prefix, 2)
  end
  for c = 1, #codes do
    local v = ARGV[i + 4 + c]
    if v ~= '0' then redis.call('HINCRBY', key, prefix .. string.sub(codes, c, c), v) end
  end
  i = i + 5 + #codes
  local h = tonumber(ARGV[i])
  for k = 1, h do redis.call('HINCRBY', key, prefix .. ARGV[i + 2 * k - 1], ARGV[i + 2 * k]) end
  i = i + 1 + 2 * h
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

export const WRITE_BATCH_SCRIPT = { source: WRITE_BATCH, sha: createHash('sha1').update(WRITE_BATCH).digest('hex') };

/** One aggregate of a batch, pre-summed: where it goes and what it adds. */
export interface PendingAggregate {
  /** KEYS index (1-based) of its hash. */
  hashIndex: number;
  /** KEYS index of its hour's tag set, 0 for a per-call aggregate. */
  tagSetIndex: number;
  tag: string;
  /** JSON of the DimensionTuple. */
  tuple: string;
  counters: UsageCounters;
}

function pushHistogram(args: (string | number)[], suffix: string, histogram: SparseHistogram): void {
  for (const [index, count] of histogram) args.push(`${suffix}${index}`, count);
}

/** Appends one aggregate's script arguments. */
export function pushAggregate(args: (string | number)[], agg: PendingAggregate): void {
  args.push(agg.hashIndex, agg.tagSetIndex, agg.tag, JSON.stringify(agg.tag), agg.tuple);
  for (const field of COUNTER_FIELDS) args.push(agg.counters[field]);
  args.push(agg.counters.latency_hist.size + agg.counters.ttft_hist.size);
  pushHistogram(args, LATENCY_SUFFIX, agg.counters.latency_hist);
  pushHistogram(args, TTFT_SUFFIX, agg.counters.ttft_hist);
}

/** An aggregate read back: its tuple, its tag (per-tag hashes) and its counters. */
export interface StoredAggregate {
  tuple: DimensionTuple;
  tag: string | null;
  counters: UsageCounters;
}

/** Adds one hash field into the aggregates of its hour; fields it does not know are skipped. */
function addField(into: Map<string, StoredAggregate>, field: string, value: number, tagged: boolean): void {
  const end = field.lastIndexOf(']') + 1;
  if (end === 0) return;
  const prefix = field.slice(0, end);
  const suffix = field.slice(end);
  let agg = into.get(prefix);
  if (!agg) {
    const parsed = JSON.parse(prefix) as Array<string | null>;
    const tag = tagged ? (parsed.shift() ?? null) : null;
    agg = { tuple: parsed as DimensionTuple, tag, counters: emptyCounters() };
    into.set(prefix, agg);
  }
  if (suffix.length === 1) {
    const counter = COUNTER_FIELDS[COUNTER_CODES.indexOf(suffix)];
    if (counter) agg.counters[counter] += value;
    return;
  }
  const histogram = suffix[0] === LATENCY_SUFFIX ? agg.counters.latency_hist : suffix[0] === TTFT_SUFFIX ? agg.counters.ttft_hist : undefined;
  const index = parseBucket(suffix.slice(1));
  if (histogram && index !== undefined) histogram.set(index, (histogram.get(index) ?? 0) + value);
}

/** The aggregates of one hour's hash (`tagged`: a per-tag one). */
export function parseHash(hash: Record<string, string>, tagged: boolean): Iterable<StoredAggregate> {
  const out = new Map<string, StoredAggregate>();
  for (const field in hash) addField(out, field, Number(hash[field]), tagged);
  return out.values();
}
