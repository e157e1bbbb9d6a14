// Subscriptions: teams' access to prompt APIs and services marked `approval: required`
// (GET /admin/subscriptions); approve or revoke each, or grant one (POST /admin/subscriptions).
import { api, query } from '../api.js';
import { field, fmt, h, say, table } from '../dom.js';

const STATUS_BADGE = { pending: ['warn', '… pending'], approved: ['ok', '✓ approved'], revoked: ['bad', '✕ revoked'] };
const state = { status: '' };

export function mount(root) {
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const filter = h(
    'select',
    { name: 'status', onchange: () => ((state.status = filter.value), load()) },
    ['', 'pending', 'approved', 'revoked'].map((s) => h('option', { value: s, text: s || 'any', selected: s === state.status })),
  );
  const body = h('section', { 'aria-labelledby': 'subs-h' });
  const team = h('select', { name: 'team', required: true });
  const target = h('select', { name: 'target', required: true });
  const create = h(
    'form',
    { class: 'create', 'aria-label': 'Grant a subscription', onsubmit: grant },
    h('h3', { text: 'Grant a subscription' }),
    h('p', { class: 'muted', text: 'Creates the subscription for the team; approve it to let the team’s keys call the API.' }),
    h('div', { class: 'grid' }, field('Team', team), field('API', target)),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Create subscription' })),
  );
  root.append(
    h('h1', { text: 'Subscriptions' }),
    h('p', { class: 'lead', text: 'Prompt APIs and services with approval: required answer a team’s keys only while the team’s subscription is approved.' }),
    h('form', { class: 'controls', 'aria-label': 'Subscription filter', onsubmit: (e) => e.preventDefault() }, field('Status', filter)),
    status,
    body,
    create,
  );

  async function act(work, done) {
    try {
      await work();
      say(status, done, 'ok');
    } catch (err) {
      say(status, err.message, 'error');
    }
    await load();
  }

  function grant(event) {
    event.preventDefault();
    const [kind, name] = target.value.split(':');
    act(() => api('/admin/subscriptions', { method: 'POST', body: { team: team.value, [kind]: name } }), `Subscription of ${team.value} to ${name} created.`);
  }

  const transition = (sub, action) =>
    act(() => api(`/admin/subscriptions/${encodeURIComponent(sub.id)}/${action}`, { method: 'POST', body: {} }), `Subscription of ${sub.team} to ${sub.name} ${action}d.`);

  async function loadChoices() {
    const [{ teams }, { prompts }, config] = await Promise.all([api('/admin/teams'), api('/admin/prompts'), api('/admin/config')]);
    team.replaceChildren(...teams.map((t) => h('option', { value: t.id, text: t.name })));
    // Those that need approval first: granting the others changes nothing.
    const apis = [
      ...prompts.map((p) => ({ value: `prompt:${p.name}`, text: `prompt ${p.name}`, gated: p.approval === 'required' })),
      ...(config.config.services ?? []).map((s) => ({ value: `service:${s.name}`, text: `service ${s.name}`, gated: s.approval === 'required' })),
    ].sort((a, b) => Number(b.gated) - Number(a.gated));
    target.replaceChildren(...apis.map((a) => h('option', { value: a.value, text: a.gated ? `${a.text} (approval required)` : a.text })));
  }

  async function load() {
    let subscriptions;
    try {
      ({ subscriptions } = await api(`/admin/subscriptions${query({ status: state.status })}`));
    } catch (err) {
      say(status, `Could not load subscriptions: ${err.message}`, 'error');
      return;
    }
    const button = (sub, action, kind) =>
      h('button', { type: 'button', class: kind, text: action[0].toUpperCase() + action.slice(1), 'aria-label': `${action[0].toUpperCase() + action.slice(1)} ${sub.team} on ${sub.name}`, onclick: () => transition(sub, action) });
    body.replaceChildren(
      h('h2', { id: 'subs-h', text: 'Subscriptions' }),
      table({
        columns: [
          { label: 'Team', key: 'team', value: (s) => s.team },
          { label: 'API', key: 'api', value: (s) => `${s.kind} ${s.name}` },
          { label: 'Status', key: 'status', value: (s) => h('span', { class: `badge ${STATUS_BADGE[s.status][0]}`, text: STATUS_BADGE[s.status][1] }) },
          { label: 'Asked', key: 'created_at', value: (s) => fmt.time(s.created_at) },
          { label: 'Changed', key: 'updated_at', value: (s) => fmt.time(s.updated_at) },
          {
            label: 'Actions',
            key: 'actions',
            value: (s) => h('span', { class: 'actions' }, s.status !== 'approved' ? button(s, 'approve', 'small') : null, ' ', s.status !== 'revoked' ? button(s, 'revoke', 'danger') : null),
          },
        ],
        rows: subscriptions,
        empty: state.status ? `No ${state.status} subscriptions.` : 'No subscriptions yet.',
        attrs: { class: 'data', id: 'subscriptions-table' },
      }),
    );
  }

  load();
  loadChoices().catch((err) => say(status, `Could not load teams and APIs: ${err.message}`, 'error'));
}
