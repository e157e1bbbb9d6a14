// Audit log: what admins did (keys, teams, subscriptions, config), newest first, from
// GET /admin/audit; secrets in the details are masked by the gateway before they get here.
import { api, query } from '../api.js';
import { field, fmt, h, say, table } from '../dom.js';

/** Details as short `name: value` text; objects (a config entry before and after) as JSON. */
function detailsText(details) {
  if (!details) return '';
  return Object.entries(details)
    .map(([name, value]) => `${name}: ${value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join('; ');
}

const state = { limit: '100', action: '' };

export function mount(root) {
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const limit = h('select', { name: 'limit' }, ['100', '500', '1000'].map((n) => h('option', { value: n, text: n, selected: n === state.limit })));
  const action = h('input', { type: 'text', name: 'action', value: state.action, placeholder: 'key., config.models', size: '18' });
  const body = h('section', { 'aria-labelledby': 'audit-h' });
  root.append(
    h('h1', { text: 'Audit log' }),
    h('p', { class: 'lead', text: 'Every change made through the admin API: who (credential and address), what, when. Newest first.' }),
    h(
      'form',
      { class: 'controls', 'aria-label': 'Audit log filters', onsubmit: (e) => (e.preventDefault(), load()) },
      field('Action starts with', action, 'Filters the entries shown'),
      field('Show', limit),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Show' })),
    ),
    status,
    body,
  );

  async function load() {
    state.limit = limit.value;
    state.action = action.value.trim();
    let entries;
    try {
      ({ entries } = await api(`/admin/audit${query({ limit: state.limit })}`));
    } catch (err) {
      say(status, `Could not load the audit log: ${err.message}`, 'error');
      return;
    }
    say(status, '');
    const shown = entries.filter((e) => e.action.startsWith(state.action));
    body.replaceChildren(
      h('h2', { id: 'audit-h', text: `${shown.length} ${shown.length === 1 ? 'entry' : 'entries'}` }),
      table({
        columns: [
          { label: 'Time (UTC)', key: 'time', value: (e) => fmt.seconds(e.time) },
          { label: 'Action', key: 'action', value: (e) => h('code', { text: e.action }) },
          { label: 'Target', key: 'target', value: (e) => e.target },
          { label: 'By', key: 'actor', value: (e) => `${e.actor} from ${e.ip}` },
          { label: 'Details', key: 'details', value: (e) => h('span', { class: 'details', text: detailsText(e.details) }) },
        ],
        rows: shown,
        empty: 'No admin actions yet.',
        attrs: { class: 'data', id: 'audit-table' },
      }),
    );
  }

  load();
}
