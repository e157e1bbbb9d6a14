// Usage: cost, tokens, requests, errors and latency over time from GET /admin/usage, grouped by
// one dimension, with totals, a chart, the chart's numbers as a table, and CSV export.
import { api, download, query } from '../api.js';
import { lineChart, seriesStyle } from '../chart.js';
import { field, fmt, h, say, table, utcDate } from '../dom.js';

const METRICS = {
  cost_usd: { label: 'Cost', axis: 'Cost (USD)', format: fmt.usd },
  total_tokens: { label: 'Tokens', axis: 'Tokens (prompt + completion)', format: fmt.int },
  requests: { label: 'Requests', axis: 'Requests', format: fmt.int },
  errors: { label: 'Errors', axis: 'Failed requests', format: fmt.int },
  latency_ms_avg: { label: 'Average latency', axis: 'Average latency (ms)', format: fmt.ms, isAverage: true },
};
const DIMENSIONS = { '': 'nothing (all traffic)', team: 'team', model: 'model group', provider: 'provider', key: 'API key', route: 'route' };
const BUCKETS = { day: { label: 'day', ms: 86_400_000 }, hour: { label: 'hour', ms: 3_600_000 } };
/** More groups than this are drawn as the largest ones plus "other". */
const MAX_SERIES = 8;

// Kept while the tab lives, so coming back to the page shows the same selection.
const state = { from: utcDate(-13), to: utcDate(0), bucket: 'day', groupBy: 'model', metric: 'cost_usd' };

/** Cost sums are kept exact to the nano-dollar the ledger counts in. */
const tidy = (metric, n) => (metric === 'cost_usd' ? Math.round(n * 1e9) / 1e9 : n);

/** Every bucket of the range, as the report names it, up to the current one. */
function timeline(from, to, bucket) {
  const step = BUCKETS[bucket].ms;
  const end = Math.min(Date.parse(`${to}T00:00:00Z`) + 86_400_000, Math.floor(Date.now() / step) * step + step);
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t < end && out.length < 20_000; t += step) {
    const iso = new Date(t).toISOString();
    out.push({ key: bucket === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00:00Z`, seconds: t / 1000 });
  }
  return out;
}

const bucketLabel = (key, bucket) => (bucket === 'day' ? key : `${key.slice(0, 10)} ${key.slice(11, 16)}`);

/** Group names people read: key and team names instead of bare ids, and words for "none". */
async function labeller(dim) {
  const names = new Map();
  if (dim === 'key') for (const key of (await api('/admin/keys')).keys) names.set(key.id, `${key.name} (${key.id})`);
  if (dim === 'team') for (const team of (await api('/admin/teams')).teams) names.set(team.id, team.name === team.id ? team.id : `${team.name} (${team.id})`);
  const none = { key: 'anonymous', team: 'no team', model: 'no model (REST services)', provider: 'no provider (REST services)', '': 'all traffic' }[dim] ?? 'not set';
  return (value) => (value === null || value === undefined ? none : names.get(value) ?? value);
}

/** The chart's series: one per group (largest first), the rest as "other". */
function buildSeries(report, summary, { dim, metric, bucket }, times, label) {
  const rank = (row) => (METRICS[metric].isAverage ? row.requests : row[metric]);
  const groups = [...summary.rows].sort((a, b) => rank(b) - rank(a)).map((row) => (dim ? row[dim] ?? null : null));
  const shown = groups.length > MAX_SERIES ? groups.slice(0, MAX_SERIES - 1) : groups;
  const index = new Map(shown.map((g, i) => [g, i]));
  const labels = shown.map(label);
  if (groups.length > shown.length) labels.push(`other (${groups.length - shown.length} groups)`);
  const at = new Map(times.map((t, i) => [t.key, i]));
  const cells = labels.map(() => times.map(() => ({ value: 0, requests: 0, latencySum: 0 })));
  for (const row of report.rows) {
    const t = at.get(row[bucket]);
    if (t === undefined || labels.length === 0) continue;
    const cell = cells[index.get(dim ? row[dim] ?? null : null) ?? labels.length - 1][t];
    cell.requests += row.requests;
    cell.latencySum += row.latency_ms_avg * row.requests;
    cell.value = tidy(metric, cell.value + row[metric]);
  }
  const valueOf = (cell) => (METRICS[metric].isAverage ? (cell.requests > 0 ? Math.round((cell.latencySum / cell.requests) * 10) / 10 : null) : cell.value);
  return labels.map((name, i) => ({ label: name, cells: cells[i], values: cells[i].map(valueOf), valueOf }));
}

/** Sums cells (or averages latency by requests) into one cell. */
function combine(metric, list) {
  const out = { value: 0, requests: 0, latencySum: 0 };
  for (const cell of list) {
    out.requests += cell.requests;
    out.latencySum += cell.latencySum;
    out.value = tidy(metric, out.value + cell.value);
  }
  return out;
}

function dataTable(series, times, { metric, bucket }) {
  const format = METRICS[metric].format;
  const columns = [{ label: 'Time (UTC)', key: 'time', value: (row) => bucketLabel(row.key, bucket) }];
  series.forEach((s, i) => columns.push({ label: s.label, key: `s${i}`, numeric: true, value: (row) => s.valueOf(row.cells[i]), format }));
  if (series.length > 1) columns.push({ label: 'All', key: 'all', numeric: true, value: (row) => series[0].valueOf(combine(metric, row.cells)), format });
  const rows = times.map((t, j) => ({ key: t.key, cells: series.map((s) => s.cells[j]) }));
  const foot = { key: '', cells: series.map((s) => combine(metric, s.cells)) };
  return table({
    caption: `${METRICS[metric].axis} per ${BUCKETS[bucket].label}`,
    columns: columns.map((c, i) => (i === 0 ? { ...c, footLabel: METRICS[metric].isAverage ? 'Whole range' : 'Total' } : c)),
    rows,
    foot,
    attrs: { id: 'usage-chart-data', class: 'data' },
  });
}

const metricColumns = [
  { label: 'Requests', key: 'requests', numeric: true, value: (r) => r.requests, format: fmt.int },
  { label: 'Errors', key: 'errors', numeric: true, value: (r) => r.errors, format: fmt.int },
  { label: 'Prompt tokens', key: 'prompt_tokens', numeric: true, value: (r) => r.prompt_tokens, format: fmt.int },
  { label: 'Completion tokens', key: 'completion_tokens', numeric: true, value: (r) => r.completion_tokens, format: fmt.int },
  { label: 'Total tokens', key: 'total_tokens', numeric: true, value: (r) => r.total_tokens, format: fmt.int },
  { label: 'Cost (USD)', key: 'cost_usd', numeric: true, value: (r) => r.cost_usd, format: fmt.usd },
  { label: 'Avg latency', key: 'latency_ms_avg', numeric: true, value: (r) => r.latency_ms_avg, format: fmt.ms },
  { label: 'Avg time to first token', key: 'ttft_ms_avg', numeric: true, value: (r) => r.ttft_ms_avg, format: fmt.ms },
];

export function mount(root) {
  let chart;
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const select = (options, value, name) =>
    h('select', { name, onchange: (e) => ((state[name] = e.target.value), load()) }, Object.entries(options).map(([v, text]) => h('option', { value: v, text, selected: v === value })));
  const dateInput = (name) => h('input', { type: 'date', name, value: state[name], required: true, onchange: (e) => ((state[name] = e.target.value), load()) });

  const form = h(
    'form',
    { class: 'controls', 'aria-label': 'Usage report settings', onsubmit: (e) => (e.preventDefault(), load()) },
    field('From (UTC)', dateInput('from')),
    field('To (UTC, inclusive)', dateInput('to')),
    field('Per', select(Object.fromEntries(Object.entries(BUCKETS).map(([k, b]) => [k, b.label])), state.bucket, 'bucket')),
    field('Group by', select(DIMENSIONS, state.groupBy, 'groupBy')),
    field('Show', select(Object.fromEntries(Object.entries(METRICS).map(([k, m]) => [k, m.axis])), state.metric, 'metric')),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Refresh' }), h('button', { type: 'button', class: 'secondary', id: 'usage-export', text: 'Export CSV', onclick: exportCsv })),
  );
  const totals = h('section', { 'aria-labelledby': 'usage-totals-h' });
  const figure = h('figure', { class: 'chart', id: 'usage-chart' });
  const chartSection = h('section', { 'aria-labelledby': 'usage-chart-h' });
  const breakdown = h('section', { 'aria-labelledby': 'usage-breakdown-h' });
  root.append(h('h1', { text: 'Usage' }), form, status, totals, chartSection, breakdown);

  const timeGroup = () => [state.bucket, state.groupBy].filter(Boolean).join(',');

  async function exportCsv() {
    try {
      const name = await download(`/admin/usage${query({ from: state.from, to: state.to, group_by: timeGroup(), format: 'csv' })}`);
      say(status, `Saved ${name}.`, 'ok');
    } catch (err) {
      say(status, `Export failed: ${err.message}`, 'error');
    }
  }

  let loads = 0;
  async function load() {
    // Only the newest request draws: answers to earlier settings may arrive after it.
    const seq = ++loads;
    root.setAttribute('aria-busy', 'true');
    say(status, 'Loading…');
    const range = { from: state.from, to: state.to };
    let report, summary, label;
    try {
      [report, summary, label] = await Promise.all([
        api(`/admin/usage${query({ ...range, group_by: timeGroup() })}`),
        api(`/admin/usage${query({ ...range, group_by: state.groupBy })}`),
        labeller(state.groupBy),
      ]);
    } catch (err) {
      if (seq !== loads) return;
      say(status, `Could not load usage: ${err.message}`, 'error');
      root.setAttribute('aria-busy', 'false');
      return;
    }
    if (seq !== loads) return;
    say(status, '');
    const metric = METRICS[state.metric];
    const dimName = DIMENSIONS[state.groupBy];

    totals.replaceChildren(
      h('h2', { id: 'usage-totals-h', text: `Totals, ${state.from} to ${state.to}` }),
      table({ columns: [{ label: 'Range', key: 'range', value: () => 'All traffic' }, ...metricColumns], rows: [summary.totals], attrs: { id: 'usage-totals', class: 'totals' } }),
    );

    const times = timeline(state.from, state.to, state.bucket);
    const series = buildSeries(report, summary, { dim: state.groupBy, metric: state.metric, bucket: state.bucket }, times, label);
    chart?.destroy();
    chart = undefined;
    const grand = series.length > 0 ? series[0].valueOf(combine(state.metric, series.flatMap((s) => s.cells))) : null;
    const legend = series.map((s, i) => `${s.label} (${seriesStyle(i).pattern.name})`).join('; ');
    figure.replaceChildren(h('figcaption', { text: `${metric.axis} per ${BUCKETS[state.bucket].label}${state.groupBy ? `, by ${dimName}` : ''}` }));
    chartSection.replaceChildren(h('h2', { id: 'usage-chart-h', text: `${metric.label} over time` }), figure);
    if (series.length === 0 || times.length === 0) {
      figure.append(h('p', { class: 'empty', text: 'No traffic in this range.' }));
    } else {
      chart = lineChart(figure, {
        xs: times.map((t) => t.seconds),
        series,
        xLabel: `Time (UTC, per ${BUCKETS[state.bucket].label})`,
        yLabel: metric.axis,
        format: metric.format,
        xFormat: (seconds) => {
          const iso = new Date(seconds * 1000).toISOString();
          return state.bucket === 'day' ? iso.slice(5, 10) : iso.slice(11, 13) === '00' ? `${iso.slice(5, 10)} 00:00` : iso.slice(11, 16);
        },
        description:
          `Line chart of ${metric.axis.toLowerCase()} per ${BUCKETS[state.bucket].label} from ${state.from} to ${state.to}` +
          `${state.groupBy ? `, one line per ${dimName}` : ''}: ${legend}. ` +
          `${metric.isAverage ? 'Average over the range' : 'Total'}: ${metric.format(grand)}. The same numbers follow as a table.`,
      });
      chartSection.append(h('details', { class: 'chart-data' }, h('summary', { text: 'Chart data as a table' }), dataTable(series, times, state)));
    }

    breakdown.replaceChildren();
    if (state.groupBy) {
      breakdown.append(
        h('h2', { id: 'usage-breakdown-h', text: `By ${dimName}` }),
        table({
          columns: [{ label: dimName[0].toUpperCase() + dimName.slice(1), key: 'group', value: (r) => label(r[state.groupBy]) }, ...metricColumns],
          rows: summary.rows,
          foot: summary.totals,
          empty: 'No traffic in this range.',
          attrs: { id: 'usage-breakdown', class: 'data' },
        }),
      );
    }
    root.setAttribute('aria-busy', 'false');
  }

  load();
  return () => {
    loads += 1;
    root.removeAttribute('aria-busy');
    chart?.destroy();
  };
}
