// Keys and teams: list with budgets and spend so far (GET /admin/keys, /admin/teams), create
// (a key's secret is shown once), revoke keys and delete teams.
import { api } from '../api.js';
import { field, fmt, h, say, table } from '../dom.js';

const PERIODS = ['month', 'week', 'day', 'total'];

/** The policy inputs keys and teams share; `read()` answers only the fields that were filled. */
function policyFields() {
  const models = h('input', { type: 'text', name: 'models', placeholder: 'fast, smart' });
  const budget = h('input', { type: 'number', name: 'budget_usd', min: '0', step: 'any' });
  const period = h('select', { name: 'budget_period' }, PERIODS.map((p) => h('option', { value: p, text: p })));
  const rpm = h('input', { type: 'number', name: 'rpm', min: '1', step: '1' });
  const tpm = h('input', { type: 'number', name: 'tpm', min: '1', step: '1' });
  return {
    fields: [
      field('Budget (USD)', budget, 'Empty: no budget'),
      field('Budget period', period),
      field('Requests per minute', rpm, 'Empty: unlimited'),
      field('Tokens per minute', tpm, 'Empty: unlimited'),
      field('Model groups', models, 'Comma-separated; empty: all'),
    ],
    read() {
      const out = {};
      const list = models.value.split(',').map((m) => m.trim()).filter(Boolean);
      if (list.length) out.models = list;
      if (budget.value !== '') out.budget_usd = Number(budget.value);
      if (budget.value !== '') out.budget_period = period.value;
      if (rpm.value !== '') out.rpm = Number(rpm.value);
      if (tpm.value !== '') out.tpm = Number(tpm.value);
      return out;
    },
  };
}

const budgetText = (r) => (r.budget_usd === null ? 'none' : `${fmt.usd(r.budget_usd)} per ${r.budget_period}`);
const limitText = (r) => [r.rpm !== null ? `${fmt.int(r.rpm)} rpm` : '', r.tpm !== null ? `${fmt.int(r.tpm)} tpm` : ''].filter(Boolean).join(', ') || 'none';

function spendCell(r) {
  const text = r.budget_usd === null ? fmt.usd(r.spend_usd) : `${fmt.usd(r.spend_usd)} of ${fmt.usd(r.budget_usd)}`;
  if (r.budget_usd === null || r.budget_usd === 0) return text;
  const ratio = Math.min(1, r.spend_usd / r.budget_usd);
  return h('span', { class: 'spend' }, text, h('meter', { min: '0', max: '1', low: '0.8', high: '0.99', optimum: '0', value: String(ratio), 'aria-label': `${Math.round(ratio * 100)} % of budget spent` }));
}

function keyState(key) {
  if (key.revoked_at) return h('span', { class: 'badge bad', text: `✕ revoked ${fmt.time(key.revoked_at)}` });
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return h('span', { class: 'badge warn', text: '⚠ expired' });
  return h('span', { class: 'badge ok', text: '✓ active' });
}

export function mount(root) {
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const teamsSection = h('section', { 'aria-labelledby': 'teams-h' });
  const keysSection = h('section', { 'aria-labelledby': 'keys-h' });
  const secretBox = h('div', { class: 'secret', role: 'alert', hidden: true });
  let teams = [];

  // ---- create forms
  const teamName = h('input', { type: 'text', name: 'name', required: true, maxlength: '128' });
  const teamId = h('input', { type: 'text', name: 'id', pattern: '[a-z0-9][a-z0-9_\\-]{0,63}' });
  const teamPolicy = policyFields();
  const teamForm = h(
    'form',
    { class: 'create', 'aria-label': 'Create a team', onsubmit: createTeam },
    h('h3', { text: 'New team' }),
    h('div', { class: 'grid' }, field('Name', teamName), field('Id', teamId, 'Optional; made from the name'), teamPolicy.fields),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Create team' })),
  );

  const keyName = h('input', { type: 'text', name: 'name', required: true, maxlength: '128' });
  const keyTeam = h('select', { name: 'team' });
  const keyExpiry = h('input', { type: 'date', name: 'expires_at' });
  const keyPolicy = policyFields();
  const keyForm = h(
    'form',
    { class: 'create', 'aria-label': 'Create a key', onsubmit: createKey },
    h('h3', { text: 'New key' }),
    h('div', { class: 'grid' }, field('Name', keyName), field('Team', keyTeam), field('Expires', keyExpiry, 'Optional; at the end of that day, UTC'), keyPolicy.fields),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Create key' })),
  );

  root.append(h('h1', { text: 'Keys and teams' }), status, secretBox, keysSection, teamsSection);

  async function act(work, done) {
    try {
      await work();
      say(status, done, 'ok');
    } catch (err) {
      say(status, err.message, 'error');
    }
    await load();
  }

  function createTeam(event) {
    event.preventDefault();
    const body = { name: teamName.value.trim(), ...(teamId.value ? { id: teamId.value } : {}), ...teamPolicy.read() };
    act(async () => {
      await api('/admin/teams', { method: 'POST', body });
      teamForm.reset();
    }, `Team ${body.name} created.`);
  }

  function createKey(event) {
    event.preventDefault();
    const body = {
      name: keyName.value.trim(),
      ...(keyTeam.value ? { team: keyTeam.value } : {}),
      ...(keyExpiry.value ? { expires_at: `${keyExpiry.value}T23:59:59Z` } : {}),
      ...keyPolicy.read(),
    };
    act(async () => {
      const key = await api('/admin/keys', { method: 'POST', body });
      keyForm.reset();
      showSecret(key);
    }, `Key ${body.name} created.`);
  }

  function showSecret(key) {
    const value = h('code', { id: 'new-key-secret', text: key.key });
    const copy = h('button', {
      type: 'button',
      class: 'secondary',
      text: 'Copy',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(key.key);
          copy.textContent = 'Copied';
        } catch {
          // No clipboard API outside secure contexts (plain http to another host): select it instead.
          getSelection().selectAllChildren(value);
          copy.textContent = 'Selected: press Ctrl+C';
        }
      },
    });
    secretBox.replaceChildren(
      h('h2', { text: `Secret of ${key.name}` }),
      h('p', { text: 'Copy it now: it is shown only this once. The gateway keeps only a hash.' }),
      h('p', { class: 'secret-value' }, value, ' ', copy),
      h('button', { type: 'button', class: 'secondary', text: 'I have saved it', onclick: () => ((secretBox.hidden = true), secretBox.replaceChildren()) }),
    );
    secretBox.hidden = false;
  }

  function revoke(key) {
    if (!confirm(`Revoke key ${key.name} (${key.hint})? Calls with it fail at once, on every instance.`)) return;
    act(() => api(`/admin/keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' }), `Key ${key.name} revoked.`);
  }

  function removeTeam(team) {
    if (!confirm(`Delete team ${team.name}? Its keys must be revoked first.`)) return;
    act(() => api(`/admin/teams/${encodeURIComponent(team.id)}`, { method: 'DELETE' }), `Team ${team.name} deleted.`);
  }

  async function load() {
    let keys;
    try {
      [{ keys }, { teams }] = await Promise.all([api('/admin/keys'), api('/admin/teams')]);
    } catch (err) {
      say(status, `Could not load keys and teams: ${err.message}`, 'error');
      return;
    }
    const teamName = (id) => (id === null ? 'none' : teams.find((t) => t.id === id)?.name ?? id);
    const chosen = keyTeam.value;
    keyTeam.replaceChildren(h('option', { value: '', text: 'none' }), ...teams.map((t) => h('option', { value: t.id, text: t.name, selected: t.id === chosen })));

    keysSection.replaceChildren(
      h('h2', { id: 'keys-h', text: 'API keys' }),
      table({
        columns: [
          { label: 'Name', key: 'name', value: (k) => k.name },
          { label: 'Key', key: 'hint', value: (k) => h('code', { text: k.hint }) },
          { label: 'Id', key: 'id', value: (k) => k.id },
          { label: 'Team', key: 'team', value: (k) => teamName(k.team) },
          { label: 'Models', key: 'models', value: (k) => fmt.list(k.models) },
          { label: 'Limits', key: 'limits', value: limitText },
          { label: 'Budget', key: 'budget', value: budgetText },
          { label: 'Spent this period', key: 'spend', value: spendCell },
          { label: 'Expires', key: 'expires', value: (k) => (k.expires_at ? fmt.time(k.expires_at) : 'never') },
          { label: 'State', key: 'state', value: keyState },
          { label: 'Actions', key: 'actions', value: (k) => (k.revoked_at ? '' : h('button', { type: 'button', class: 'danger', text: 'Revoke', 'aria-label': `Revoke key ${k.name}`, onclick: () => revoke(k) })) },
        ],
        rows: keys,
        empty: 'No keys yet.',
        attrs: { class: 'data', id: 'keys-table' },
      }),
      keyForm,
    );
    teamsSection.replaceChildren(
      h('h2', { id: 'teams-h', text: 'Teams' }),
      table({
        columns: [
          { label: 'Name', key: 'name', value: (t) => t.name },
          { label: 'Id', key: 'id', value: (t) => t.id },
          { label: 'Models', key: 'models', value: (t) => fmt.list(t.models) },
          { label: 'Limits', key: 'limits', value: limitText },
          { label: 'Budget', key: 'budget', value: budgetText },
          { label: 'Spent this period', key: 'spend', value: spendCell },
          { label: 'Keys', key: 'keys', numeric: true, value: (t) => keys.filter((k) => k.team === t.id && !k.revoked_at).length },
          { label: 'Actions', key: 'actions', value: (t) => h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete team ${t.name}`, onclick: () => removeTeam(t) }) },
        ],
        rows: teams,
        empty: 'No teams yet.',
        attrs: { class: 'data', id: 'teams-table' },
      }),
      teamForm,
    );
  }

  load();
}
