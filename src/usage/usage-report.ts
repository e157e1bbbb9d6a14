/**
 * Usage rows from the store turned into the report finance reads (docs/cost-reports.md):
 * JSON rows with totals, or CSV with the same columns. Pure functions.
 */
import type { UsageCounters, UsageDimension, UsageRow } from './ledger-store.js';
import { addCounters, emptyCounters } from './ledger-store.js';
import { percentileMs } from './latency-histogram.js';

export interface UsageMetrics {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  total_tokens: number;
  cost_usd: number;
  latency_ms_avg: number;
  /**
   * Latency percentiles, ms: the upper bound of the histogram bucket holding the exact
   * (nearest-rank) percentile, so at most 20 % above it (src/usage/latency-histogram.ts). Null
   * for hours recorded before histograms were kept.
   */
  latency_ms_p50: number | null;
  latency_ms_p95: number | null;
  latency_ms_p99: number | null;
  /** null when no call in the group streamed. */
  ttft_ms_avg: number | null;
  ttft_ms_p50: number | null;
  ttft_ms_p95: number | null;
  /** Calls answered from the response cache (cost 0). */
  cache_hits: number;
  /** What the cached answers cost when they were fetched. */
  saved_cost_usd: number;
}

export type UsageReportRow = Partial<Record<UsageDimension, string | null>> & UsageMetrics;

export interface UsageReport {
  /** ISO times of the range asked for, `to` exclusive. */
  from: string;
  to: string;
  group_by: UsageDimension[];
  rows: UsageReportRow[];
  /** Each call once, whatever the grouping. */
  totals: UsageMetrics;
  /** Set when rows count some calls more than once (grouped by tag). */
  note?: string;
}

/** What a report grouped by tag says about its rows. */
export const BY_TAG_NOTE =
  'a call with several tags counts once under each of its tags, so rows can add up to more than totals; totals count each call once. Calls without tags are under (none); tags past the hourly cap under (other).';

const METRIC_COLUMNS: readonly (keyof UsageMetrics)[] = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'total_tokens',
  'cost_usd',
  'latency_ms_avg',
  'latency_ms_p50',
  'latency_ms_p95',
  'latency_ms_p99',
  'ttft_ms_avg',
  'ttft_ms_p50',
  'ttft_ms_p95',
  'cache_hits',
  'saved_cost_usd',
];

const round1 = (value: number) => Math.round(value * 10) / 10;

function toMetrics(c: UsageCounters): UsageMetrics {
  return {
    requests: c.requests,
    errors: c.errors,
    prompt_tokens: c.prompt_tokens,
    completion_tokens: c.completion_tokens,
    cached_tokens: c.cached_tokens,
    total_tokens: c.prompt_tokens + c.completion_tokens,
    cost_usd: c.cost_nano_usd / 1e9,
    latency_ms_avg: c.requests > 0 ? round1(c.latency_ms_sum / c.requests) : 0,
    latency_ms_p50: percentileMs(c.latency_hist, 0.5),
    latency_ms_p95: percentileMs(c.latency_hist, 0.95),
    latency_ms_p99: percentileMs(c.latency_hist, 0.99),
    ttft_ms_avg: c.ttft_count > 0 ? round1(c.ttft_ms_sum / c.ttft_count) : null,
    ttft_ms_p50: percentileMs(c.ttft_hist, 0.5),
    ttft_ms_p95: percentileMs(c.ttft_hist, 0.95),
    cache_hits: c.cache_hits,
    saved_cost_usd: c.saved_cost_nano_usd / 1e9,
  };
}

function compareRows(groupBy: readonly UsageDimension[]) {
  const timeDims = groupBy.filter((d) => d === 'day' || d === 'hour');
  return (a: UsageRow, b: UsageRow): number => {
    for (const dim of timeDims) {
      const x = a.dims[dim] ?? '';
      const y = b.dims[dim] ?? '';
      if (x !== y) return x < y ? -1 : 1;
    }
    const byCost = b.counters.cost_nano_usd - a.counters.cost_nano_usd;
    if (byCost !== 0) return byCost;
    const x = JSON.stringify(groupBy.map((d) => a.dims[d]));
    const y = JSON.stringify(groupBy.map((d) => b.dims[d]));
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/**
 * Rows ordered by time (when grouped by day or hour), then by cost, highest first. Totals are
 * the rows' sum unless given: rows by tag count a call once per tag, so their totals are read
 * apart, from the per-call aggregates.
 */
export function buildUsageReport(
  rows: UsageRow[],
  range: { from: number; to: number; groupBy: readonly UsageDimension[] },
  given?: { totals: UsageCounters; note: string },
): UsageReport {
  let totals = given?.totals;
  if (!totals) {
    totals = emptyCounters();
    for (const row of rows) addCounters(totals, row.counters);
  }
  return {
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    group_by: [...range.groupBy],
    rows: [...rows].sort(compareRows(range.groupBy)).map((row) => ({ ...row.dims, ...toMetrics(row.counters) })),
    totals: toMetrics(totals),
    ...(given ? { note: given.note } : {}),
  };
}

/** An exact decimal of nano-USD (no float rounding, no exponent notation for spreadsheets). */
export function nanoToDecimal(nano: number): string {
  const negative = nano < 0;
  const digits = String(Math.abs(Math.round(nano))).padStart(10, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -9)}.${digits.slice(-9)}`;
}

/**
 * One CSV field (RFC 4180 quoting). A text value that a spreadsheet would run as a formula
 * gets a leading `'`: model names come from clients.
 */
function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The report's rows as CSV, dimension columns first; the header names match the JSON fields. */
export function usageReportCsv(report: UsageReport): string {
  const columns = [...report.group_by, ...METRIC_COLUMNS];
  const lines = [columns.join(',')];
  for (const row of report.rows) {
    const fields = columns.map((column) => {
      // cost_usd is nano / 1e9, so rounding back recovers the exact integer.
      if (column === 'cost_usd' || column === 'saved_cost_usd') return nanoToDecimal(Math.round(row[column] * 1e9));
      return csvField(row[column as keyof UsageReportRow]);
    });
    lines.push(fields.join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
