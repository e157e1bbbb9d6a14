// The forms of the Keys and teams page: the policy fields keys and teams share (limits, budget,
// model groups), and the edit form, which sends only what changed (PATCH /admin/keys/:id,
// /admin/teams/:id) so the audit log records exactly what the admin did.
import { field, fmt, h, say } from '../dom.js';

const PERIODS = ['month', 'week', 'day', 'total'];

/** A number input's value, null when empty: null clears a limit or budget. */
const numberOrNull = (input) => (input.value === '' ? null : Number(input.value));

/**
 * The policy inputs, filled from `initial` (a key or team) when given. `read()` answers every
 * field, empty ones as null (no limit) or [] (all model groups).
 */
export function policyFields(initial = {}) {
  const models = h('input', { type: 'text', name: 'models', placeholder: 'fast, smart', value: (initial.models ?? []).join(', ') });
  const budget = h('input', { type: 'number', name: 'budget_usd', min: '0', step: 'any', value: initial.budget_usd ?? '' });
  const period = h('select', { name: 'budget_period' }, PERIODS.map((p) => h('option', { value: p, text: p, selected: p === initial.budget_period })));
  const rpm = h('input', { type: 'number', name: 'rpm', min: '1', step: '1', value: initial.rpm ?? '' });
  const tpm = h('input', { type: 'number', name: 'tpm', min: '1', step: '1', value: initial.tpm ?? '' });
  return {
    fields: [
      field('Budget (USD)', budget, 'Empty: no budget'),
      field('Budget period', period),
      field('Requests per minute', rpm, 'Empty: unlimited'),
      field('Tokens per minute', tpm, 'Empty: unlimited'),
      field('Model groups', models, 'Comma-separated; empty: all'),
    ],
    read() {
      return {
        models: models.value.split(',').map((m) => m.trim()).filter(Boolean),
        budget_usd: numberOrNull(budget),
        budget_period: period.value,
        rpm: numberOrNull(rpm),
        tpm: numberOrNull(tpm),
      };
    },
  };
}

/** Only the fields a create needs: empty means "the default", so it is left out. */
export function filledOnly(policy) {
  const out = {};
  if (policy.models.length) out.models = policy.models;
  if (policy.budget_usd !== null) Object.assign(out, { budget_usd: policy.budget_usd, budget_period: policy.budget_period });
  if (policy.rpm !== null) out.rpm = policy.rpm;
  if (policy.tpm !== null) out.tpm = policy.tpm;
  return out;
}

/** The fields of `next` that differ from `current`. */
function changes(current, next) {
  return Object.fromEntries(Object.entries(next).filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(current[name] ?? null)));
}

/** `2025-03-31T23:59:59.000Z` → `2025-03-31`, the date input's value. */
const dateOf = (iso) => (iso ? iso.slice(0, 10) : '');

/**
 * The edit form of a key (`kind` 'key', with team and expiry) or a team. `save(changes)` sends
 * them and throws on refusal; the refusal is shown next to the form. `done()` closes it.
 */
export function editForm({ kind, record, teams = [], save, done }) {
  const label = `Edit ${kind} ${record.name}`;
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: '128', value: record.name });
  const policy = policyFields(record);
  const team = kind === 'key' ? h('select', { name: 'team' }, h('option', { value: '', text: 'none' }), teams.map((t) => h('option', { value: t.id, text: t.name, selected: t.id === record.team }))) : null;
  const expiry = kind === 'key' ? h('input', { type: 'date', name: 'expires_at', value: dateOf(record.expires_at) }) : null;
  const status = h('p', { class: 'notice', role: 'alert', hidden: true });

  const read = () => {
    const next = { name: name.value.trim(), ...policy.read() };
    if (next.budget_usd === null) next.budget_period = record.budget_period;
    const out = changes(record, next);
    if (team && (team.value || null) !== record.team) out.team = team.value || null;
    // A date input holds a day: the expiry changes only when the day does, so an exact time stays.
    if (expiry && expiry.value !== dateOf(record.expires_at)) out.expires_at = expiry.value ? `${expiry.value}T23:59:59Z` : null;
    return out;
  };

  const form = h(
    'form',
    {
      class: 'create edit',
      'aria-label': label,
      onsubmit: async (event) => {
        event.preventDefault();
        const body = read();
        if (Object.keys(body).length === 0) return done(`Nothing changed for ${kind} ${record.name}.`);
        try {
          await save(body);
        } catch (err) {
          say(status, err.message, 'error');
          return undefined;
        }
        return done(`${kind === 'key' ? 'Key' : 'Team'} ${body.name ?? record.name} saved.`);
      },
    },
    h('h3', { text: label }),
    h(
      'div',
      { class: 'grid' },
      field('Name', name),
      team ? field('Team', team) : null,
      expiry ? field('Expires', expiry, 'At the end of that day, UTC; empty: never') : null,
      policy.fields,
    ),
    status,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Save' }), h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => done('') })),
  );
  return form;
}

/** Whether spend has reached the budget: calls are refused (429 insufficient_quota) from then on. */
export const isOverBudget = (r) => r && r.budget_usd !== null && r.budget_usd !== undefined && r.spend_usd >= r.budget_usd;

export const budgetText = (r) => (r.budget_usd === null ? 'none' : `${fmt.budget(r.budget_usd)} per ${r.budget_period}`);
export const limitText = (r) => [r.rpm !== null ? `${fmt.int(r.rpm)} rpm` : '', r.tpm !== null ? `${fmt.int(r.tpm)} tpm` : ''].filter(Boolean).join(', ') || 'none';

export function spendCell(r) {
  const text = r.budget_usd === null ? fmt.usd(r.spend_usd) : `${fmt.usd(r.spend_usd)} of ${fmt.budget(r.budget_usd)}`;
  if (r.budget_usd === null || r.budget_usd === 0) return text;
  const ratio = Math.min(1, r.spend_usd / r.budget_usd);
  return h('span', { class: 'spend' }, text, h('meter', { min: '0', max: '1', low: '0.8', high: '0.99', optimum: '0', value: String(ratio), 'aria-label': `${Math.round(ratio * 100)} % of budget spent` }));
}
