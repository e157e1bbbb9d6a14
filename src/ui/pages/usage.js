// Usage: cost, tokens, requests, errors and latency (averages and percentiles) over time from
// GET /admin/usage, grouped by one dimension (tags included) and optionally filtered, with
// totals, a chart, a latency-percentile chart, the charts' numbers as tables, and CSV export.
import { api, download, query } from '../api.js';
import { lineChart, seriesStyle } from '../chart.js';
import { field, fmt, h, say, table, utcDate } from '../dom.js';
import { drawLatency } from './usage-latency.js';
import { BUCKETS, METRICS, buildSeries, dataTable, timeline, xLabeller } from './usage-series.js';

const DIMENSIONS = { '': 'nothing (all traffic)', team: 'team', model: 'model group', provider: 'provider', key: 'API key', route: 'route', tag: 'tag' };
/** Filters /admin/usage takes: one exact value each. */
const FILTERS = { tag: 'Tag', team: 'Team', key: 'Key id', model: 'Model group', route: 'Route', status: 'Status' };

// Kept while the tab lives, so coming back to the page shows the same selection.
const state = { from: utcDate(-13), to: utcDate(0), bucket: 'day', groupBy: 'model', metric: 'cost_usd', filters: {} };

/** Group names people read: key and team names instead of bare ids, and words for "none". */
async function labeller(dim) {
  const names = new Map();
  if (dim === 'key') for (const key of (await api('/admin/keys')).keys) names.set(key.id, `${key.name} (${key.id})`);
  if (dim === 'team') for (const team of (await api('/admin/teams')).teams) names.set(team.id, team.name === team.id ? team.id : `${team.name} (${team.id})`);
  const none = { key: 'anonymous', team: 'no team', model: 'no model (REST services)', provider: 'no provider (REST services)', tag: 'untagged', '': 'all traffic' }[dim] ?? 'not set';
  return (value) => (value === null || value === undefined ? none : names.get(value) ?? value);
}

const col = (label, key, format) => ({ label, key, numeric: true, value: (r) => r[key] ?? null, format });
/** Traffic and cost; then latency, where percentiles show "–" until the gateway reports them. */
const trafficColumns = [
  col('Requests', 'requests', fmt.int),
  col('Errors', 'errors', fmt.int),
  col('Prompt tokens', 'prompt_tokens', fmt.int),
  col('Completion tokens', 'completion_tokens', fmt.int),
  col('Total tokens', 'total_tokens', fmt.int),
  col('Cost (USD)', 'cost_usd', fmt.usd),
];
const latencyColumns = [
  col('Avg latency', 'latency_ms_avg', fmt.ms),
  col('p50', 'latency_ms_p50', fmt.ms),
  col('p95', 'latency_ms_p95', fmt.ms),
  col('p99', 'latency_ms_p99', fmt.ms),
  col('Avg first token', 'ttft_ms_avg', fmt.ms),
  col('First token p50', 'ttft_ms_p50', fmt.ms),
  col('First token p95', 'ttft_ms_p95', fmt.ms),
];
/** The per-group table keeps to what fits a laptop screen; the CSV has every column. */
const breakdownColumns = [col('Requests', 'requests', fmt.int), col('Errors', 'errors', fmt.int), col('Total tokens', 'total_tokens', fmt.int), col('Cost (USD)', 'cost_usd', fmt.usd), ...latencyColumns.slice(0, 3), col('First token p50', 'ttft_ms_p50', fmt.ms)];

/** The filter inputs: changes apply on Refresh (or Enter), not on every keystroke. */
function filterFields() {
  const inputs = Object.entries(FILTERS).map(([name, label]) => {
    const input = h('input', { type: 'text', name: `filter-${name}`, value: state.filters[name] ?? '', size: '12' });
    return { name, input, field: field(label, input) };
  });
  return {
    fields: inputs.map((i) => i.field),
    read: () => Object.fromEntries(inputs.map(({ name, input }) => [name, input.value.trim()]).filter(([, v]) => v)),
  };
}

export function mount(root) {
  let charts = [];
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const select = (options, value, name) =>
    h('select', { name, onchange: (e) => ((state[name] = e.target.value), load()) }, Object.entries(options).map(([v, text]) => h('option', { value: v, text, selected: v === value })));
  const dateInput = (name) => h('input', { type: 'date', name, value: state[name], required: true, onchange: (e) => ((state[name] = e.target.value), load()) });
  const filters = filterFields();

  const form = h(
    'form',
    { class: 'controls', 'aria-label': 'Usage report settings', onsubmit: (e) => (e.preventDefault(), load()) },
    field('From (UTC)', dateInput('from')),
    field('To (UTC, inclusive)', dateInput('to')),
    field('Per', select(Object.fromEntries(Object.entries(BUCKETS).map(([k, b]) => [k, b.label])), state.bucket, 'bucket')),
    field('Group by', select(DIMENSIONS, state.groupBy, 'groupBy')),
    field('Show', select(Object.fromEntries(Object.entries(METRICS).map(([k, m]) => [k, m.axis])), state.metric, 'metric')),
    h('details', { class: 'filters', open: Object.keys(state.filters).length > 0 }, h('summary', { text: 'Filters' }), h('div', { class: 'grid' }, filters.fields)),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Refresh' }), h('button', { type: 'button', class: 'secondary', id: 'usage-export', text: 'Export CSV', onclick: exportCsv })),
  );
  const totals = h('section', { 'aria-labelledby': 'usage-totals-h' });
  const figure = h('figure', { class: 'chart', id: 'usage-chart' });
  const chartSection = h('section', { 'aria-labelledby': 'usage-chart-h' });
  const latencySection = h('section', { 'aria-labelledby': 'usage-latency-h' });
  const breakdown = h('section', { 'aria-labelledby': 'usage-breakdown-h' });
  root.append(h('h1', { text: 'Usage' }), form, status, totals, chartSection, latencySection, breakdown);

  const timeGroup = () => [state.bucket, state.groupBy].filter(Boolean).join(',');
  const report = (groupBy, extra = {}) => `/admin/usage${query({ from: state.from, to: state.to, group_by: groupBy, ...state.filters, ...extra })}`;

  async function exportCsv() {
    try {
      // Named after the range the page shows (the last day inclusive), whatever the server suggests.
      const name = await download(report(timeGroup(), { format: 'csv' }), `usage-${state.from}-${state.to}.csv`);
      say(status, `Saved ${name}.`, 'ok');
    } catch (err) {
      say(status, `Export failed: ${err.message}`, 'error');
    }
  }

  let loads = 0;
  async function load() {
    // Only the newest request draws: answers to earlier settings may arrive after it.
    const seq = ++loads;
    state.filters = filters.read();
    root.setAttribute('aria-busy', 'true');
    say(status, 'Loading…');
    let answers, label;
    try {
      const [byTime, summary, overall, labels] = await Promise.all([api(report(timeGroup())), api(report(state.groupBy)), api(report(state.bucket)), labeller(state.groupBy)]);
      answers = { report: byTime, summary, overall };
      label = labels;
    } catch (err) {
      if (seq !== loads) return;
      say(status, `Could not load usage: ${err.message}`, 'error');
      root.setAttribute('aria-busy', 'false');
      return;
    }
    if (seq !== loads) return;
    say(status, '');
    for (const chart of charts) chart.destroy();
    charts = [];
    const { summary, overall } = answers;
    const metric = METRICS[state.metric];
    const dimName = DIMENSIONS[state.groupBy];
    const filtered = Object.entries(state.filters).map(([name, value]) => `${FILTERS[name].toLowerCase()} ${value}`).join(', ');
    const range = `${state.from} to ${state.to}${filtered ? `, ${filtered}` : ''}`;

    totals.replaceChildren(
      h('h2', { id: 'usage-totals-h', text: `Totals, ${range}` }),
      h(
        'div',
        { id: 'usage-totals', class: 'totals-pair' },
        table({ caption: 'Traffic and cost', columns: trafficColumns, rows: [summary.totals], attrs: { class: 'totals' } }),
        table({ caption: 'Latency', columns: latencyColumns, rows: [summary.totals], attrs: { class: 'totals' } }),
      ),
    );

    const times = timeline(state.from, state.to, state.bucket);
    const built = buildSeries(answers, { dim: state.groupBy, metric: state.metric, bucket: state.bucket }, times, label);
    const { series } = built;
    const legend = series.map((s, i) => `${s.label} (${seriesStyle(i).pattern.name})`).join('; ');
    figure.replaceChildren(h('figcaption', { text: `${metric.axis} per ${BUCKETS[state.bucket].label}${state.groupBy ? `, by ${dimName}` : ''}` }));
    chartSection.replaceChildren(h('h2', { id: 'usage-chart-h', text: `${metric.label} over time` }), figure);
    if (series.length === 0 || times.length === 0) {
      figure.append(h('p', { class: 'empty', text: 'No traffic in this range.' }));
    } else {
      charts.push(
        lineChart(figure, {
          xs: times.map((t) => t.seconds),
          series,
          xLabel: `Time (UTC, per ${BUCKETS[state.bucket].label})`,
          yLabel: metric.axis,
          format: metric.format,
          xFormat: xLabeller(times, state.bucket),
          xTickSpacing: state.bucket === 'hour' ? 70 : 80,
          description:
            `Line chart of ${metric.axis.toLowerCase()} per ${BUCKETS[state.bucket].label} from ${range}` +
            `${state.groupBy ? `, one line per ${dimName}` : ''}: ${legend}. ` +
            `${metric.kind ? 'Over the whole range' : 'Total'}: ${metric.format(built.grandTotal())}. The same numbers follow as a table.`,
        }),
      );
      chartSection.append(h('details', { class: 'chart-data' }, h('summary', { text: 'Chart data as a table' }), dataTable(built, times, state)));
    }
    const latency = drawLatency(latencySection, overall, times, { bucket: state.bucket, from: state.from, to: state.to });
    if (latency) charts.push(latency);

    breakdown.replaceChildren();
    if (state.groupBy) {
      breakdown.append(
        h('h2', { id: 'usage-breakdown-h', text: `By ${dimName}` }),
        // The gateway's own words on how these rows add up (by tag: a call counts under each of its tags).
        ...(summary.note ? [h('p', { class: 'muted', id: 'usage-note', text: `Note: ${summary.note}` })] : []),
        table({
          columns: [{ label: dimName[0].toUpperCase() + dimName.slice(1), key: 'group', value: (r) => label(r[state.groupBy]) }, ...breakdownColumns],
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
    for (const chart of charts) chart.destroy();
  };
}
