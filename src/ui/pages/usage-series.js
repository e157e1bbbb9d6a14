// The Usage page's numbers: the report's rows laid out as one series per group over every bucket
// of the range, and the same numbers as a table. Sums add up; averages are weighted by requests;
// percentiles cannot be combined from parts, so a cell that would need that takes the gateway's
// own figure (the report for the whole bucket, or for the whole range) or shows "–".
import { fmt, table } from '../dom.js';

export const METRICS = {
  cost_usd: { label: 'Cost', axis: 'Cost (USD)', format: fmt.usd },
  total_tokens: { label: 'Tokens', axis: 'Tokens (prompt + completion)', format: fmt.int },
  requests: { label: 'Requests', axis: 'Requests', format: fmt.int },
  errors: { label: 'Errors', axis: 'Failed requests', format: fmt.int },
  latency_ms_avg: { label: 'Average latency', axis: 'Average latency (ms)', format: fmt.ms, kind: 'average' },
  latency_ms_p50: { label: 'Median latency', axis: 'Latency p50 (ms)', format: fmt.ms, kind: 'percentile' },
  latency_ms_p95: { label: 'p95 latency', axis: 'Latency p95 (ms)', format: fmt.ms, kind: 'percentile' },
};
export const BUCKETS = { day: { label: 'day', ms: 86_400_000 }, hour: { label: 'hour', ms: 3_600_000 } };
/** More groups than this are drawn as the largest ones plus "other". */
const MAX_SERIES = 8;

/** Cost sums are kept exact to the nano-dollar the ledger counts in. */
const tidy = (metric, n) => (metric === 'cost_usd' ? Math.round(n * 1e9) / 1e9 : n);

/** Every bucket of the range, as the report names it, up to the current one. */
export function timeline(from, to, bucket) {
  const step = BUCKETS[bucket].ms;
  const end = Math.min(Date.parse(`${to}T00:00:00Z`) + 86_400_000, Math.floor(Date.now() / step) * step + step);
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t < end && out.length < 20_000; t += step) {
    const iso = new Date(t).toISOString();
    out.push({ key: bucket === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00:00Z`, seconds: t / 1000 });
  }
  return out;
}

export const bucketLabel = (key, bucket) => (bucket === 'day' ? key : `${key.slice(0, 10)} ${key.slice(11, 16)}`);

/**
 * The x labels: days as `MM-DD`; hours as `HH:MM`, with the date under it whenever the range
 * spans more than one day (else a 25-hour range reads 00:00 … 12:00 … 00:00 with no telling apart).
 */
export function xLabeller(times, bucket) {
  const spansDays = times.length > 0 && times[0].key.slice(0, 10) !== times.at(-1).key.slice(0, 10);
  return (seconds) => {
    const iso = new Date(seconds * 1000).toISOString();
    if (bucket === 'day') return iso.slice(5, 10);
    return spansDays ? `${iso.slice(11, 16)}\n${iso.slice(5, 10)}` : iso.slice(11, 16);
  };
}

const emptyCell = () => ({ value: 0, requests: 0, latencySum: 0, rows: 0, only: null });

/** Sums cells (or weights latency by requests) into one cell. */
function combine(metric, list) {
  const out = emptyCell();
  for (const cell of list) {
    out.requests += cell.requests;
    out.latencySum += cell.latencySum;
    out.rows += cell.rows;
    out.only = cell.only ?? out.only;
    out.value = tidy(metric, out.value + cell.value);
  }
  return out;
}

/** A cell's value for `metric`: null where there is no traffic, or no way to tell. */
function valueOf(metric, cell) {
  const kind = METRICS[metric].kind;
  if (kind === 'average') return cell.requests > 0 ? Math.round((cell.latencySum / cell.requests) * 10) / 10 : null;
  if (kind === 'percentile') return cell.rows === 1 ? cell.only?.[metric] ?? null : null;
  return cell.value;
}

/**
 * The chart's series: one per group (largest first), the rest as "other". `summary`: the report
 * by group over the whole range; `overall`: the report by bucket alone (percentiles per bucket).
 */
export function buildSeries({ report, summary, overall }, { dim, metric, bucket }, times, label) {
  const rank = (row) => (METRICS[metric].kind ? row.requests : row[metric]);
  const ranked = [...summary.rows].sort((a, b) => rank(b) - rank(a));
  const groups = ranked.map((row) => (dim ? row[dim] ?? null : null));
  const shown = groups.length > MAX_SERIES ? groups.slice(0, MAX_SERIES - 1) : groups;
  const index = new Map(shown.map((g, i) => [g, i]));
  const labels = shown.map(label);
  if (groups.length > shown.length) labels.push(`other (${groups.length - shown.length} groups)`);
  const at = new Map(times.map((t, i) => [t.key, i]));
  const cells = labels.map(() => times.map(emptyCell));
  for (const row of report.rows) {
    const t = at.get(row[bucket]);
    if (t === undefined || labels.length === 0) continue;
    const cell = cells[index.get(dim ? row[dim] ?? null : null) ?? labels.length - 1][t];
    cell.requests += row.requests;
    cell.latencySum += row.latency_ms_avg * row.requests;
    cell.rows += 1;
    cell.only = row;
    if (!METRICS[metric].kind) cell.value = tidy(metric, cell.value + row[metric]);
  }
  const overallAt = new Map((overall?.rows ?? []).map((row) => [row[bucket], row]));
  const whole = (i) => (i < shown.length ? ranked[i] : null);
  const isPercentile = METRICS[metric].kind === 'percentile';
  // By tag, a call with two tags is in two groups (the report's `note` says so): totals over
  // groups come from the gateway, which counts each call once, never from adding the groups up.
  const fromGateway = isPercentile || Boolean(summary.note);
  const noTraffic = METRICS[metric].kind ? null : 0;
  return {
    series: labels.map((name, i) => ({ label: name, cells: cells[i], values: cells[i].map((c) => valueOf(metric, c)) })),
    /** The value of a bucket over all groups. */
    bucketTotal: (j, list) => (fromGateway ? overallAt.get(times[j].key)?.[metric] ?? noTraffic : valueOf(metric, combine(metric, list))),
    /** A series' value over the whole range (percentiles: the gateway's figure for that group). */
    seriesTotal: (i, list) => (isPercentile ? whole(i)?.[metric] ?? null : valueOf(metric, combine(metric, list))),
    grandTotal: () => (fromGateway ? summary.totals[metric] ?? null : valueOf(metric, combine(metric, cells.flat()))),
  };
}

/** The chart's numbers as a table: a row per bucket, a column per series, totals in the footer. */
export function dataTable(built, times, { metric, bucket }) {
  const { series } = built;
  const format = METRICS[metric].format;
  const columns = [{ label: 'Time (UTC)', key: 'time', value: (row) => (row.foot ? null : bucketLabel(row.key, bucket)) }];
  series.forEach((s, i) => columns.push({ label: s.label, key: `s${i}`, numeric: true, value: (row) => (row.foot ? built.seriesTotal(i, s.cells) : s.values[row.j]), format }));
  if (series.length > 1) columns.push({ label: 'All', key: 'all', numeric: true, value: (row) => (row.foot ? built.grandTotal() : built.bucketTotal(row.j, series.map((s) => s.cells[row.j]))), format });
  return table({
    caption: `${METRICS[metric].axis} per ${BUCKETS[bucket].label}`,
    columns: columns.map((c, i) => (i === 0 ? { ...c, footLabel: METRICS[metric].kind ? 'Whole range' : 'Total' } : c)),
    rows: times.map((t, j) => ({ key: t.key, j })),
    foot: { foot: true },
    attrs: { id: 'usage-chart-data', class: 'data' },
  });
}
