// Edit forms of the Runtime config page. They send the whole entry (PUT /admin/config/<section>/
// <name>); the gateway validates it like the file and answers every fault with its key path
// (`/models/fast/deployments/0/weight: must be > 0`), shown next to the input of that path, or
// above the buttons when no input has it. Fields the form has no input for are kept as they were.
import { field, h } from '../dom.js';

const STRATEGIES = ['weighted', 'cost', 'latency', 'least-busy', 'priority'];

/** `invalid config change: /a/b: must be…; /c: …` → [{ path: '/a/b', message: 'must be…' }]. */
export function faultsOf(message) {
  const text = message.replace(/^invalid config change:\s*/, '');
  return text.split(/;\s+(?=\/)/).map((fault) => {
    const match = /^(\/[^:\s]*):\s*(.*)$/s.exec(fault);
    return match ? { path: match[1], message: match[2] } : { path: '', message: fault };
  });
}

/** Marks the inputs a fault names and lists the rest in `general`; clears earlier marks first. */
function showFaults(form, general, faults, base) {
  for (const el of form.querySelectorAll('.fault')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const rest = [];
  for (const fault of faults) {
    // The most specific input at or above the path: a fault inside `price` lands next to the price.
    let path = fault.path.startsWith(base) ? fault.path.slice(base.length) : null;
    let input = null;
    while (path !== null && !input) {
      input = form.querySelector(`[data-path="${CSS.escape(path)}"]`);
      if (!input && path === '') break;
      path = path.slice(0, Math.max(0, path.lastIndexOf('/')));
    }
    if (!input) {
      rest.push(fault);
      continue;
    }
    input.id ||= `p-${Math.random().toString(36).slice(2, 9)}`;
    input.setAttribute('aria-invalid', 'true');
    const note = h('span', { class: 'fault', role: 'alert', id: `${input.id}-fault`, text: `⚠ ${fault.message}` });
    input.setAttribute('aria-describedby', note.id);
    input.after(note);
  }
  general.replaceChildren(...rest.map((f) => h('li', { text: f.path ? `${f.path}: ${f.message}` : f.message })));
  general.hidden = rest.length === 0;
  form.querySelector('[aria-invalid]')?.focus();
}

/** A labelled input bound to a key path, for faults. */
function input(attrs, path) {
  return h('input', { ...attrs, 'data-path': path });
}

/**
 * The shell every config form shares: a name (for a new entry), the fields, the faults and
 * Save/Cancel. `build()` answers the entry; `save(name, entry)` throws the gateway's refusal.
 */
function entryForm({ label, section, name, fields, build, save, cancel }) {
  const nameInput = name === undefined ? input({ type: 'text', name: 'name', required: true, maxlength: '256' }, '') : null;
  const general = h('ul', { class: 'faults', role: 'alert', hidden: true });
  const form = h(
    'form',
    {
      class: 'create config-edit',
      'aria-label': label,
      onsubmit: async (event) => {
        event.preventDefault();
        const entryName = name ?? nameInput.value.trim();
        let entry;
        try {
          entry = build();
        } catch (err) {
          showFaults(form, general, [{ path: '', message: err.message }], '');
          return;
        }
        try {
          await save(entryName, entry);
        } catch (err) {
          showFaults(form, general, faultsOf(err.message), `/${section}/${entryName}`);
        }
      },
    },
    h('h3', { text: label }),
    nameInput ? field('Name', nameInput) : null,
    fields,
    general,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Save' }), h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: cancel })),
  );
  return form;
}

const numberOr = (el, fallback) => (el.value === '' ? fallback : Number(el.value));

/** One deployment's row of inputs; answers `{ row, read() }`. */
function deploymentRow(d, i, providers, remove) {
  const p = `/deployments/${i}`;
  const provider = h('select', { name: 'provider', 'data-path': `${p}/provider` }, [...new Set([...providers, d.provider].filter(Boolean))].map((n) => h('option', { value: n, text: n, selected: n === d.provider })));
  const model = input({ type: 'text', name: 'model', required: true, value: d.model ?? '' }, `${p}/model`);
  const weight = input({ type: 'number', name: 'weight', step: 'any', value: d.weight ?? 1 }, `${p}/weight`);
  const priceIn = input({ type: 'number', name: 'price_input', step: 'any', value: d.price?.input ?? '' }, `${p}/price/input`);
  const priceOut = input({ type: 'number', name: 'price_output', step: 'any', value: d.price?.output ?? '' }, `${p}/price/output`);
  const row = h(
    'fieldset',
    { class: 'deployment' },
    h('legend', { text: `Deployment ${i + 1}` }),
    h('div', { class: 'grid' }, field('Provider', provider), field('Upstream model', model), field('Weight', weight), field('Input price', priceIn, 'USD per 1M tokens; empty: bundled table'), field('Output price', priceOut, 'USD per 1M tokens')),
    h('button', { type: 'button', class: 'danger', text: 'Remove', 'aria-label': `Remove deployment ${i + 1}`, onclick: remove }),
  );
  const read = () => {
    const { price: _price, ...rest } = d;
    const out = { ...rest, provider: provider.value, model: model.value.trim(), weight: numberOr(weight, 1) };
    if (priceIn.value !== '' || priceOut.value !== '') out.price = { ...d.price, input: numberOr(priceIn, 0), output: numberOr(priceOut, 0) };
    return out;
  };
  return { row, read };
}

/** A model group: strategy, retries, timeout, fallbacks and its deployments. */
export function modelGroupForm({ name, entry = {}, providers, save, cancel }) {
  const { name: _name, deployments = [{ provider: providers[0], model: '', weight: 1 }], ...rest } = entry;
  const strategy = h('select', { name: 'strategy', 'data-path': '/strategy' }, STRATEGIES.map((s) => h('option', { value: s, text: s, selected: s === (rest.strategy ?? 'weighted') })));
  const retries = input({ type: 'number', name: 'retries', step: '1', value: rest.retries ?? 2 }, '/retries');
  const timeout = input({ type: 'number', name: 'timeout_ms', step: '1', value: rest.timeout_ms ?? 30000 }, '/timeout_ms');
  const fallbacks = input({ type: 'text', name: 'fallbacks', value: (rest.fallbacks ?? []).join(', ') }, '/fallbacks');
  const list = h('div', { class: 'deployments' });
  let drafts = deployments.map((d) => ({ ...d }));
  const rows = [];
  const redraw = () => {
    rows.length = 0;
    list.replaceChildren(
      ...drafts.map((d, i) => {
        const r = deploymentRow(d, i, providers, () => {
          drafts = rows.map((x) => x.read()).filter((_x, j) => j !== i);
          redraw();
        });
        rows.push(r);
        return r.row;
      }),
    );
  };
  redraw();
  const add = h('button', {
    type: 'button',
    class: 'secondary',
    text: 'Add deployment',
    onclick: () => {
      drafts = [...rows.map((x) => x.read()), { provider: providers[0], model: '', weight: 1 }];
      redraw();
    },
  });
  return entryForm({
    label: name === undefined ? 'New model group' : `Edit model group ${name}`,
    section: 'models',
    name,
    fields: [
      h('div', { class: 'grid' }, field('Strategy', strategy), field('Retries', retries), field('Timeout per attempt (ms)', timeout), field('Fallbacks', fallbacks, 'Model groups, comma-separated')),
      h('div', { 'data-path': '/deployments', tabindex: '-1' }, list, add),
    ],
    build: () => ({
      ...rest,
      strategy: strategy.value,
      retries: numberOr(retries, 2),
      timeout_ms: numberOr(timeout, 30000),
      fallbacks: fallbacks.value.split(',').map((f) => f.trim()).filter(Boolean),
      deployments: rows.map((r) => r.read()),
    }),
    save,
    cancel,
  });
}

/** A service as JSON: its shape varies (targets, headers, retries…) more than a form can follow. */
export function serviceForm({ name, entry, save, cancel }) {
  const { name: _name, ...rest } = entry ?? { prefix: '/api/example', strip_prefix: true, targets: [{ url: 'http://127.0.0.1:3001', weight: 1 }] };
  const text = h('textarea', { name: 'entry', rows: '10', spellcheck: 'false', 'data-path': '', class: 'mono' });
  text.value = JSON.stringify(rest, null, 2);
  return entryForm({
    label: name === undefined ? 'New service' : `Edit service ${name}`,
    section: 'services',
    name,
    fields: [
      field('Service (JSON)', text, 'Masked values (****) are sent as written: type the real value again to keep a header.'),
    ],
    build: () => {
      try {
        return JSON.parse(text.value);
      } catch (err) {
        throw new Error(`not valid JSON: ${err.message}`);
      }
    },
    save,
    cancel,
  });
}
