// Keys and teams: list with budgets and spend so far (GET /admin/keys, /admin/teams), create
// (a key's secret is shown once), edit limits, budgets and expiry, revoke keys, delete teams.
import { api } from '../api.js';
import { field, fmt, h, say, table } from '../dom.js';
import { budgetText, editForm, filledOnly, isOverBudget, limitText, policyFields, spendCell } from './key-forms.js';

/** A key's state in words: revoked, expired, over its own or its team's budget, or active. */
function keyState(key, team) {
  if (key.revoked_at) return h('span', { class: 'badge bad', text: `✕ revoked ${fmt.time(key.revoked_at)}` });
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return h('span', { class: 'badge warn', text: '⚠ expired' });
  if (isOverBudget(key)) return h('span', { class: 'badge bad', text: '⚠ over budget' });
  if (isOverBudget(team)) return h('span', { class: 'badge bad', text: '⚠ team over budget' });
  return h('span', { class: 'badge ok', text: '✓ active' });
}

const teamState = (team) => (isOverBudget(team) ? h('span', { class: 'badge bad', text: '⚠ over budget' }) : h('span', { class: 'badge ok', text: '✓ within budget' }));

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

  // The edit form opens above the tables, where the status line and the secret also show.
  const editBox = h('div', { id: 'edit-box' });
  root.append(h('h1', { text: 'Keys and teams' }), status, secretBox, editBox, keysSection, teamsSection);

  function edit(kind, record) {
    const path = `/admin/${kind}s/${encodeURIComponent(record.id)}`;
    const form = editForm({
      kind,
      record,
      teams,
      save: (body) => api(path, { method: 'PATCH', body }),
      done: async (message) => {
        editBox.replaceChildren();
        if (message) say(status, message, 'ok');
        await load();
      },
    });
    editBox.replaceChildren(form);
    form.querySelector('input')?.focus();
  }

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
    const body = { name: teamName.value.trim(), ...(teamId.value ? { id: teamId.value } : {}), ...filledOnly(teamPolicy.read()) };
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
      ...filledOnly(keyPolicy.read()),
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
    const teamOf = (key) => teams.find((t) => t.id === key.team);
    const actions = (kind, r, extra) =>
      h('span', { class: 'actions' }, h('button', { type: 'button', class: 'secondary small', text: 'Edit', 'aria-label': `Edit ${kind} ${r.name}`, onclick: () => edit(kind, r) }), ' ', extra);
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
          { label: 'State', key: 'state', value: (k) => keyState(k, teamOf(k)) },
          {
            label: 'Actions',
            key: 'actions',
            value: (k) => (k.revoked_at ? '' : actions('key', k, h('button', { type: 'button', class: 'danger', text: 'Revoke', 'aria-label': `Revoke key ${k.name}`, onclick: () => revoke(k) }))),
          },
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
          { label: 'State', key: 'state', value: teamState },
          { label: 'Keys', key: 'keys', numeric: true, value: (t) => keys.filter((k) => k.team === t.id && !k.revoked_at).length },
          { label: 'Actions', key: 'actions', value: (t) => actions('team', t, h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete team ${t.name}`, onclick: () => removeTeam(t) })) },
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
