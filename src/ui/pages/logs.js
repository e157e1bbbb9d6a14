// Request log: the newest calls from GET /admin/logs, filtered by key, team, model, provider,
// route, status and tag; a click on a call opens its full ledger record. A gateway whose log cannot filter by
// team, route or tag yet (it answers 400 naming the parameter) is filtered here instead, over
// the newest 1000 records, and the page says so.
import { ApiError, api, query } from '../api.js';
import { field, fmt, h, say, table } from '../dom.js';
import { showRecord } from './log-record.js';

const FILTERS = [
  { name: 'key', label: 'Key id' },
  { name: 'team', label: 'Team' },
  { name: 'model', label: 'Model group' },
  { name: 'provider', label: 'Provider' },
  { name: 'route', label: 'Route', hint: 'chat, responses, prompt:<name>…' },
  { name: 'status', label: 'Status', hint: '200, 429 or a class: 5xx' },
  { name: 'tag', label: 'Tag' },
];
/** Filters older gateways do not take on /admin/logs; applied to the records here. */
const LOCAL_FILTERS = ['team', 'provider', 'route', 'tag'];
const MAX_LIMIT = 1000;

const state = { filters: {}, limit: '100' };

function matches(record, filters) {
  return (
    (filters.team === undefined || record.team === filters.team) &&
    (filters.provider === undefined || record.provider === filters.provider) &&
    (filters.route === undefined || record.route === filters.route) &&
    (filters.tag === undefined || (record.tags ?? []).includes(filters.tag))
  );
}

/** The records for `filters`: the gateway filters what it can; the rest is done here. */
async function fetchRecords(filters, limit) {
  try {
    return { records: (await api(`/admin/logs${query({ ...filters, limit })}`)).records, local: [] };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 400 || !/unknown query parameter '(team|provider|route|tag)'/.test(err.message)) throw err;
  }
  const local = LOCAL_FILTERS.filter((name) => filters[name] !== undefined);
  const remote = Object.fromEntries(Object.entries(filters).filter(([name]) => !LOCAL_FILTERS.includes(name)));
  const { records } = await api(`/admin/logs${query({ ...remote, limit: MAX_LIMIT })}`);
  return { records: records.filter((r) => matches(r, filters)).slice(0, Number(limit)), local };
}

const statusBadge = (r) => h('span', { class: `badge ${r.status < 400 ? 'ok' : r.status === 429 ? 'warn' : 'bad'}`, text: `${r.status < 400 ? '✓' : '⚠'} ${r.status}` });

export function mount(root) {
  const inputs = FILTERS.map((f) => ({ ...f, input: h('input', { type: 'text', name: f.name, value: state.filters[f.name] ?? '', size: '14' }) }));
  const limit = h('select', { name: 'limit' }, ['50', '100', '500', '1000'].map((n) => h('option', { value: n, text: n, selected: n === state.limit })));
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const list = h('section', { 'aria-labelledby': 'logs-h' });
  const detail = h('section', { id: 'log-detail', 'aria-labelledby': 'log-detail-h', hidden: true });
  const form = h(
    'form',
    { class: 'controls', 'aria-label': 'Request log filters', onsubmit: (e) => (e.preventDefault(), load()) },
    inputs.map((f) => field(f.label, f.input, f.hint)),
    field('Show', limit),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Search' })),
  );
  root.append(
    h('h1', { text: 'Request log' }),
    h('p', { class: 'lead', text: 'The newest calls first, one ledger record each: who called, what ran where, tokens, cost, latency and outcome. Select a call to see its whole record.' }),
    form,
    status,
    detail,
    list,
  );

  function open(record) {
    showRecord(detail, record, () => {
      detail.hidden = true;
      history.replaceState(null, '', '#/logs');
    });
    // The URL names the call, so it can be shared; replaceState fires no hashchange, so the page stays.
    history.replaceState(null, '', `#/logs?id=${encodeURIComponent(record.id)}`);
    detail.hidden = false;
    detail.querySelector('h2')?.focus();
  }

  let loads = 0;
  async function load() {
    const seq = ++loads;
    state.filters = Object.fromEntries(inputs.map((f) => [f.name, f.input.value.trim()]).filter(([, v]) => v));
    state.limit = limit.value;
    root.setAttribute('aria-busy', 'true');
    let answer;
    try {
      answer = await fetchRecords(state.filters, state.limit);
    } catch (err) {
      if (seq === loads) say(status, `Could not load the request log: ${err.message}`, 'error');
      root.setAttribute('aria-busy', 'false');
      return;
    }
    if (seq !== loads) return;
    const { records, local } = answer;
    say(status, local.length ? `This gateway cannot filter its log by ${local.join(', ')}: filtered here among the newest ${MAX_LIMIT} calls.` : '', 'info');
    list.replaceChildren(
      h('h2', { id: 'logs-h', text: `${records.length} ${records.length === 1 ? 'call' : 'calls'}` }),
      table({
        columns: [
          { label: 'Time (UTC)', key: 'time', value: (r) => h('button', { type: 'button', class: 'link', text: fmt.seconds(r.time), 'aria-label': `Show call ${r.id}`, onclick: () => open(r) }) },
          { label: 'Status', key: 'status', value: statusBadge },
          { label: 'Route', key: 'route', value: (r) => r.route },
          { label: 'Model', key: 'model', value: (r) => r.model },
          { label: 'Provider / model', key: 'upstream', value: (r) => (r.provider ? `${r.provider} / ${r.upstream_model ?? '–'}` : null) },
          { label: 'Key', key: 'key_id', value: (r) => r.key_id ?? 'anonymous' },
          { label: 'Team', key: 'team', value: (r) => r.team },
          { label: 'Tokens', key: 'tokens', numeric: true, value: (r) => r.prompt_tokens + r.completion_tokens, format: fmt.int },
          { label: 'Cost', key: 'cost_usd', numeric: true, value: (r) => r.cost_usd, format: fmt.usd },
          { label: 'Latency', key: 'latency_ms', numeric: true, value: (r) => r.latency_ms, format: fmt.ms },
          { label: 'Tags', key: 'tags', value: (r) => (r.tags ?? []).join(', ') },
        ],
        rows: records,
        empty: 'No calls match.',
        attrs: { class: 'data', id: 'logs-table' },
      }),
    );
    root.setAttribute('aria-busy', 'false');
    const wanted = new URLSearchParams(location.hash.split('?')[1] ?? '').get('id');
    const record = wanted && records.find((r) => r.id === wanted);
    if (record) open(record);
  }

  load();
  return () => {
    loads += 1;
    root.removeAttribute('aria-busy');
  };
}
