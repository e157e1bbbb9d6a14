// Runtime config: the model groups (with their deployments), services and providers this gateway
// runs now (GET /admin/config, secrets masked); edit or add a group or service, or delete one
// (PUT/DELETE /admin/config/<section>/<name>). With Redis every instance applies a change within a
// second; without it, this instance only, unless "write to the config file" is ticked.
import { api, query } from '../api.js';
import { fmt, h, say, table } from '../dom.js';
import { modelGroupForm, serviceForm } from './config-forms.js';

const limitsText = (l) => (l ? Object.entries(l).map(([name, value]) => `${name} ${fmt.int(value)}`).join(', ') : 'none');
const priceText = (p) => (p ? `${fmt.price(p.input)} in / ${fmt.price(p.output)} out` : 'bundled table');
/** An entry changed through the admin API (stored in the overlay) rather than read from the file. */
const origin = (overlay, name) => (overlay && name in overlay ? 'changed at run time' : 'from the file');

export function mount(root) {
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const info = h('dl', { class: 'facts', id: 'config-info' });
  const persist = h('input', { type: 'checkbox', name: 'persist', id: 'config-persist' });
  const persistField = h('p', { class: 'check', hidden: true }, persist, ' ', h('label', { for: 'config-persist', text: 'Also write changes to the config file (this gateway has no Redis to keep them)' }));
  const groups = h('section', { 'aria-labelledby': 'config-models-h' });
  const services = h('section', { 'aria-labelledby': 'config-services-h' });
  const providers = h('section', { 'aria-labelledby': 'config-providers-h' });
  root.append(
    h('h1', { text: 'Runtime config' }),
    h('p', { class: 'lead', text: 'What this gateway runs now: the config file with the changes made through the admin API on top. A change is validated like the file before anything applies.' }),
    info,
    persistField,
    status,
    groups,
    services,
    providers,
  );
  let view;

  const path = (section, name) => `/admin/config/${section}/${encodeURIComponent(name)}${query({ persist: persist.checked ? 'true' : undefined })}`;

  async function put(section, name, entry) {
    const answer = await api(path(section, name), { method: 'PUT', body: entry });
    // Redrawn first, so "saved" is said over the page that shows the change.
    await load();
    say(status, `Saved ${section === 'models' ? 'model group' : 'service'} ${name}: config version ${answer.version}${answer.persisted ? ', written to the file' : ''}.`, 'ok');
  }

  async function remove(section, name) {
    const noun = section === 'models' ? 'model group' : 'service';
    if (!confirm(`Delete ${noun} ${name}? Calls to it fail from now on.`)) return;
    try {
      const answer = await api(path(section, name), { method: 'DELETE' });
      say(status, `Deleted ${noun} ${name}: config version ${answer.version}.`, 'ok');
    } catch (err) {
      say(status, `Could not delete ${noun} ${name}: ${err.message}`, 'error');
    }
    await load();
  }

  /** Opens `form` in `slot`, replacing what was there; Cancel puts the view back. */
  function openForm(slot, form) {
    slot.replaceChildren(form);
    form.querySelector('input, select, textarea')?.focus();
  }

  function groupCard(group, providerNames) {
    const slot = h('div', { class: 'edit-slot' });
    const edit = () => openForm(slot, modelGroupForm({ name: group.name, entry: group, providers: providerNames, save: (name, entry) => put('models', name, entry), cancel: () => slot.replaceChildren() }));
    return h(
      'article',
      { class: 'card', 'data-config-group': group.name },
      h('h3', { text: group.name }),
      h('p', { class: 'muted', text: `${group.strategy}, ${group.retries} retries, ${fmt.int(group.timeout_ms)} ms per attempt; fallbacks: ${fmt.list(group.fallbacks).replace(/^all$/, 'none')}; ${origin(view.overlay.models, group.name)}` }),
      table({
        columns: [
          { label: 'Provider', key: 'provider', value: (d) => d.provider },
          { label: 'Upstream model', key: 'model', value: (d) => d.model },
          { label: 'Weight', key: 'weight', numeric: true, value: (d) => d.weight ?? 1 },
          { label: 'Price (per 1M tokens)', key: 'price', value: (d) => priceText(d.price) },
          { label: 'Limits', key: 'limits', value: (d) => limitsText(d.limits) },
        ],
        rows: group.deployments,
        attrs: { class: 'data' },
      }),
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', class: 'secondary small', text: 'Edit', 'aria-label': `Edit model group ${group.name}`, onclick: edit }),
        h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete model group ${group.name}`, onclick: () => remove('models', group.name) }),
      ),
      slot,
    );
  }

  function serviceCard(service) {
    const slot = h('div', { class: 'edit-slot' });
    const edit = () => openForm(slot, serviceForm({ name: service.name, entry: service, save: (name, entry) => put('services', name, entry), cancel: () => slot.replaceChildren() }));
    return h(
      'article',
      { class: 'card', 'data-config-service': service.name },
      h('h3', { text: service.name }),
      h('p', { class: 'muted', text: `${service.prefix}${service.strip_prefix ? ' (prefix stripped)' : ''}; ${origin(view.overlay.services, service.name)}` }),
      table({
        columns: [
          { label: 'Target', key: 'url', value: (t) => t.url },
          { label: 'Weight', key: 'weight', numeric: true, value: (t) => t.weight ?? 1 },
        ],
        rows: service.targets ?? [],
        attrs: { class: 'data' },
      }),
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', class: 'secondary small', text: 'Edit', 'aria-label': `Edit service ${service.name}`, onclick: edit }),
        h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete service ${service.name}`, onclick: () => remove('services', service.name) }),
      ),
      slot,
    );
  }

  async function load() {
    try {
      view = await api('/admin/config');
    } catch (err) {
      say(status, `Could not load the config: ${err.message}`, 'error');
      return;
    }
    const { config } = view;
    const providerNames = Object.keys(config.providers ?? {});
    info.replaceChildren(
      ...[
        ['Source', `${view.source}, version ${view.version}`],
        ['Applied', fmt.time(view.applied_at)],
        ['Store', view.store],
        ['Config file', view.config_file ?? 'none'],
        ...(view.error ? [['Last fault', view.error]] : []),
      ].flatMap(([dt, dd]) => [h('dt', { text: dt }), h('dd', { text: dd })]),
    );
    persistField.hidden = view.store === 'redis' || !view.config_file;

    const newSlot = (label, make) => {
      const slot = h('div', { class: 'edit-slot' });
      return [h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', text: label, onclick: () => openForm(slot, make(slot)) })), slot];
    };
    groups.replaceChildren(
      h('h2', { id: 'config-models-h', text: 'Model groups' }),
      ...config.models.map((g) => groupCard(g, providerNames)),
      ...newSlot('New model group', (slot) => modelGroupForm({ providers: providerNames, save: (name, entry) => put('models', name, entry), cancel: () => slot.replaceChildren() })),
    );
    services.replaceChildren(
      h('h2', { id: 'config-services-h', text: 'Services' }),
      ...(config.services.length ? config.services.map(serviceCard) : [h('p', { class: 'empty', text: 'No REST services.' })]),
      ...newSlot('New service', (slot) => serviceForm({ save: (name, entry) => put('services', name, entry), cancel: () => slot.replaceChildren() })),
    );
    providers.replaceChildren(
      h('h2', { id: 'config-providers-h', text: 'Providers' }),
      h('p', { class: 'muted', text: 'Keys and credentials show masked. Providers change through PUT /admin/config/providers/<name> with the real values.' }),
      table({
        columns: [
          { label: 'Name', key: 'name', value: ([name]) => name },
          { label: 'Type', key: 'type', value: ([, p]) => p.type },
          { label: 'Base URL', key: 'base_url', value: ([, p]) => p.base_url ?? '–' },
          { label: 'API key', key: 'api_key', value: ([, p]) => (p.type === 'mock' || p.type === 'openai-compatible' ? p.api_key || 'not needed' : p.api_key || 'none: off') },
        ],
        rows: Object.entries(config.providers ?? {}),
        attrs: { class: 'data', id: 'config-providers' },
      }),
    );
  }

  load();
}
