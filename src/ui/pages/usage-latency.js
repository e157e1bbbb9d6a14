// The Usage page's latency chart: p50, p95 and p99 latency and p50/p95 time to first token per
// bucket, for all the traffic the filters select, straight from GET /admin/usage grouped by the
// bucket alone (percentiles cannot be rebuilt from per-group rows, so the gateway computes them).
import { lineChart, seriesStyle } from '../chart.js';
import { fmt, h, table } from '../dom.js';
import { BUCKETS, bucketLabel, xLabeller } from './usage-series.js';

const LINES = [
  { key: 'latency_ms_p50', label: 'Latency p50' },
  { key: 'latency_ms_p95', label: 'Latency p95' },
  { key: 'latency_ms_p99', label: 'Latency p99' },
  { key: 'ttft_ms_p50', label: 'First token p50' },
  { key: 'ttft_ms_p95', label: 'First token p95' },
];

/**
 * Fills `section` and answers the chart (to destroy on the next load), or undefined when there is
 * nothing to draw. `overall`: the report by bucket; `times`: the buckets of the range.
 */
export function drawLatency(section, overall, times, { bucket, from, to }) {
  const heading = h('h2', { id: 'usage-latency-h', text: 'Latency percentiles over time' });
  // Only lines the gateway reports, and that have a value somewhere in the range.
  const lines = LINES.filter((line) => overall.rows.some((row) => typeof row[line.key] === 'number'));
  if (lines.length === 0) {
    const text = overall.rows.length === 0 ? 'No traffic in this range.' : 'This gateway does not report latency percentiles.';
    section.replaceChildren(heading, h('p', { class: 'empty', text }));
    return undefined;
  }
  const at = new Map(overall.rows.map((row) => [row[bucket], row]));
  const series = lines.map((line) => ({ label: line.label, key: line.key, values: times.map((t) => at.get(t.key)?.[line.key] ?? null) }));
  const figure = h('figure', { class: 'chart', id: 'usage-latency' }, h('figcaption', { text: `Latency percentiles per ${BUCKETS[bucket].label}, all selected traffic` }));
  const legend = series.map((s, i) => `${s.label} (${seriesStyle(i).pattern.name})`).join('; ');
  const totals = overall.totals;
  const wholeRange = lines.map((line) => `${line.label} ${fmt.ms(totals[line.key])}`).join(', ');
  section.replaceChildren(heading, figure);
  const chart = lineChart(figure, {
    xs: times.map((t) => t.seconds),
    series,
    xLabel: `Time (UTC, per ${BUCKETS[bucket].label})`,
    yLabel: 'Milliseconds',
    format: fmt.ms,
    xFormat: xLabeller(times, bucket),
    xTickSpacing: bucket === 'hour' ? 70 : 80,
    description: `Line chart of latency percentiles per ${BUCKETS[bucket].label} from ${from} to ${to}: ${legend}. Over the whole range: ${wholeRange}. The same numbers follow as a table.`,
  });
  const columns = [
    { label: 'Time (UTC)', key: 'time', value: (row) => (row.foot ? null : bucketLabel(row.key, bucket)) },
    ...series.map((s) => ({ label: s.label, key: s.key, numeric: true, value: (row) => (row.foot ? totals[s.key] ?? null : s.values[row.j]), format: fmt.ms })),
  ];
  section.append(
    h(
      'details',
      { class: 'chart-data' },
      h('summary', { text: 'Latency data as a table' }),
      table({
        caption: `Latency percentiles per ${BUCKETS[bucket].label} (ms)`,
        columns: columns.map((c, i) => (i === 0 ? { ...c, footLabel: 'Whole range' } : c)),
        rows: times.map((t, j) => ({ key: t.key, j })),
        foot: { foot: true },
        attrs: { id: 'usage-latency-data', class: 'data' },
      }),
    ),
  );
  return chart;
}
