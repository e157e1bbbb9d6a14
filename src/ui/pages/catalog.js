// Catalog: the client APIs, model groups (GET /admin/models), prompt APIs with their input schema
// and a try-it form that calls the real POST /prompts/<name> (GET /admin/prompts), REST services
// (the effective config of GET /admin/config, secrets masked), and the OpenAPI document.
import { api, call } from '../api.js';
import { field, fmt, h, say, table } from '../dom.js';

const price = (p) => (p ? `${fmt.usd(p.input)} in / ${fmt.usd(p.output)} out` : 'unknown');
const limits = (l) =>
  l
    ? Object.entries(l)
        .map(([name, value]) => `${name} ${fmt.int(value)}`)
        .join(', ')
    : 'none';

// The client APIs are fixed by the gateway's code, not its config, so they are listed as they are
// (docs/endpoints.md has every route). `route` is what Usage groups their calls by.
const CLIENT_APIS = [
  { endpoint: 'POST /v1/chat/completions', speaks: 'OpenAI Chat Completions', route: 'chat' },
  { endpoint: 'POST /v1/responses', speaks: 'OpenAI Responses; GET and DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items', route: 'responses' },
  { endpoint: 'POST /v1/messages', speaks: 'Anthropic Messages; POST /v1/messages/count_tokens', route: 'messages' },
  { endpoint: 'POST /v1/completions', speaks: 'OpenAI legacy Completions, answered by chat models', route: 'completions' },
  { endpoint: 'POST /v1/embeddings', speaks: 'OpenAI Embeddings', route: 'embeddings' },
  { endpoint: 'GET /v1/models', speaks: 'the model names below, in OpenAI or Anthropic shape', route: '' },
];

function clientApis() {
  return table({
    caption: 'Every one takes the model group names below, or provider/model where the provider allows it.',
    columns: [
      { label: 'Endpoint', key: 'endpoint', value: (a) => h('code', { text: a.endpoint }) },
      { label: 'Speaks', key: 'speaks', value: (a) => a.speaks },
      { label: 'Usage route', key: 'route', value: (a) => (a.route ? h('code', { text: a.route }) : 'not recorded') },
    ],
    rows: CLIENT_APIS,
    attrs: { class: 'data', id: 'catalog-apis' },
  });
}

function modelGroups(models) {
  if (models.length === 0) return h('p', { class: 'empty', text: 'No model group has a usable deployment.' });
  return models.map((group) =>
    h(
      'article',
      { class: 'card', 'data-model-group': group.name },
      h('h3', {}, h('code', { text: group.name })),
      h(
        'dl',
        { class: 'facts' },
        h('dt', { text: 'Strategy' }),
        h('dd', { text: group.strategy }),
        h('dt', { text: 'Retries' }),
        h('dd', { text: fmt.int(group.retries) }),
        h('dt', { text: 'Timeout per attempt' }),
        h('dd', { text: fmt.ms(group.timeout_ms) }),
        h('dt', { text: 'Fallbacks' }),
        h('dd', { text: group.fallbacks.length ? group.fallbacks.join(', ') : 'none' }),
      ),
      table({
        caption: `Deployments of ${group.name}`,
        columns: [
          { label: 'Deployment', key: 'id', value: (d) => d.id },
          { label: 'Provider', key: 'provider', value: (d) => `${d.provider} (${d.type})` },
          { label: 'Upstream model', key: 'model', value: (d) => d.model },
          { label: 'Weight', key: 'weight', numeric: true, value: (d) => d.weight },
          { label: 'Price (USD per 1M tokens)', key: 'price', value: (d) => price(d.price) },
          { label: 'Limits', key: 'limits', value: (d) => limits(d.limits) },
        ],
        rows: group.deployments,
        attrs: { class: 'data' },
      }),
    ),
  );
}

/** One form control per top-level property of the prompt's input schema. */
function inputControl(name, schema, isRequired) {
  const common = { name, required: isRequired };
  if (Array.isArray(schema.enum)) {
    const options = isRequired ? schema.enum : ['', ...schema.enum];
    return { kind: 'text', el: h('select', common, options.map((v) => h('option', { value: String(v), text: v === '' ? '(not set)' : String(v), selected: v === schema.default }))) };
  }
  switch (schema.type) {
    case 'integer':
    case 'number':
      return {
        kind: 'number',
        el: h('input', { ...common, type: 'number', step: 'any', placeholder: schema.default }),
      };
    case 'boolean':
      return { kind: 'boolean', el: h('input', { ...common, required: false, type: 'checkbox', checked: schema.default === true }) };
    case 'string':
      return (schema.maxLength ?? 10_000) > 200
        ? { kind: 'text', el: h('textarea', { ...common, rows: '3' }) }
        : { kind: 'text', el: h('input', { ...common, type: 'text' }) };
    default:
      return { kind: 'json', el: h('textarea', { ...common, rows: '3', class: 'mono', placeholder: 'JSON' }) };
  }
}

function describeType(schema) {
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.join(', ')}`;
  const bounds = [
    schema.minLength !== undefined ? `min length ${schema.minLength}` : '',
    schema.maxLength !== undefined ? `max length ${schema.maxLength}` : '',
    schema.minimum !== undefined ? `min ${schema.minimum}` : '',
    schema.maximum !== undefined ? `max ${schema.maximum}` : '',
    schema.default !== undefined ? `default ${JSON.stringify(schema.default)}` : '',
  ].filter(Boolean);
  return [schema.type ?? 'any', ...bounds].join(', ');
}

function promptCard(prompt) {
  const properties = prompt.input.properties ?? {};
  const required = new Set(prompt.input.required ?? []);
  const controls = Object.entries(properties).map(([name, schema]) => ({ name, schema, ...inputControl(name, schema, required.has(name)) }));
  const keyInput = h('input', { type: 'password', name: 'api_key', autocomplete: 'off' });
  const result = h('div', { class: 'try-result', 'aria-live': 'polite' });
  const status = h('p', { class: 'notice', hidden: true });

  async function tryIt(event) {
    event.preventDefault();
    const body = {};
    for (const c of controls) {
      if (c.kind === 'boolean') {
        if (c.el.checked || required.has(c.name)) body[c.name] = c.el.checked;
        continue;
      }
      const text = c.el.value;
      if (text === '' && !required.has(c.name)) continue;
      if (c.kind === 'number') body[c.name] = Number(text);
      else if (c.kind === 'json') {
        try {
          body[c.name] = JSON.parse(text);
        } catch {
          say(status, `${c.name}: not valid JSON`, 'error');
          return;
        }
      } else body[c.name] = text;
    }
    say(status, `Calling POST ${prompt.route}…`);
    result.replaceChildren();
    const res = await call(prompt.route, { method: 'POST', body, ...(keyInput.value ? { key: keyInput.value } : {}) });
    if (!res.ok) {
      say(status, `${res.status}: ${res.error.message}`, 'error');
      return;
    }
    const answer = await res.json();
    say(status, `${res.status} from ${answer.provider} / ${answer.model}, ${fmt.int(answer.usage.total_tokens)} tokens, ${fmt.usd(answer.cost_usd)}`, 'ok');
    const output = typeof answer.output === 'string' ? answer.output : JSON.stringify(answer.output, null, 2);
    result.append(h('h4', { text: 'Output' }), h('pre', { class: 'output', text: output }), h('details', {}, h('summary', { text: 'Whole answer' }), h('pre', { text: JSON.stringify(answer, null, 2) })));
  }

  return h(
    'article',
    { class: 'card prompt', 'data-prompt': prompt.name },
    h('header', {}, h('h3', {}, h('code', { text: `POST ${prompt.route}` })), h('p', { text: prompt.description || 'No description.' })),
    h(
      'div',
      { class: 'prompt-info' },
      h(
        'dl',
        { class: 'facts' },
        h('dt', { text: 'Version' }),
        h('dd', { text: `${prompt.version}${prompt.versions.length > 1 ? ` (also served: ${prompt.versions.slice(1).map((v) => `@${v}`).join(', ')})` : ''}` }),
        h('dt', { text: 'Model' }),
        h('dd', { text: prompt.model }),
        h('dt', { text: 'Answers' }),
        h('dd', { text: prompt.output.type === 'json' ? 'JSON (validated against its schema)' : 'text' }),
        h('dt', { text: 'Approval' }),
        h('dd', { text: prompt.approval === 'required' ? 'required: callers need an approved subscription' : 'not needed' }),
      ),
      table({
        caption: 'Input',
        columns: [
          { label: 'Field', key: 'name', value: ([name]) => name },
          { label: 'Type', key: 'type', value: ([, schema]) => describeType(schema) },
          { label: 'Required', key: 'required', value: ([name]) => (required.has(name) ? 'yes' : 'no') },
          { label: 'Description', key: 'description', value: ([, schema]) => schema.description ?? '' },
        ],
        rows: Object.entries(properties),
        empty: 'No input.',
        attrs: { class: 'data' },
      }),
      h('details', {}, h('summary', { text: 'Input schema (JSON Schema)' }), h('pre', { text: JSON.stringify(prompt.input, null, 2) })),
    ),
    h(
      'form',
      // The route validates, not the browser: its 400 naming the field is part of what one tries out.
      { class: 'try', 'aria-label': `Try ${prompt.name}`, novalidate: true, onsubmit: tryIt },
      h('h4', { text: 'Try it' }),
      controls.map((c) => field(`${c.name}${required.has(c.name) ? ' (required)' : ''}`, c.el, c.schema.description)),
      field('API key', keyInput, 'Optional: call as this gateway key. Empty: the master key, billed to no key.'),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', text: `Call ${prompt.name}` })),
      status,
      result,
    ),
  );
}

function services(list) {
  return table({
    columns: [
      { label: 'Service', key: 'name', value: (s) => s.name },
      { label: 'Prefix', key: 'prefix', value: (s) => h('code', { text: s.prefix }) },
      { label: 'Upstream path', key: 'path', value: (s) => (s.rewrite ? `prefix becomes ${s.rewrite}` : s.strip_prefix ? 'prefix removed' : 'kept as is') },
      { label: 'Methods', key: 'methods', value: (s) => (s.methods ? s.methods.join(', ') : 'all but TRACE') },
      { label: 'Targets', key: 'targets', value: (s) => s.targets.map((t) => `${t.url} (weight ${t.weight})`).join(', ') },
      { label: 'Timeout', key: 'timeout', numeric: true, value: (s) => s.timeout_ms, format: fmt.ms },
    ],
    rows: list,
    empty: 'No REST services are configured.',
    attrs: { class: 'data', id: 'catalog-services' },
  });
}

export function mount(root) {
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const body = h('div');
  root.append(
    h('h1', { text: 'Catalog' }),
    h(
      'p',
      { class: 'lead' },
      'What this gateway serves. Machine-readable: ',
      h('a', { href: '/openapi.json', text: 'OpenAPI document of the prompt APIs' }),
      '.',
    ),
    status,
    body,
  );
  say(status, 'Loading…');
  Promise.all([api('/admin/models'), api('/admin/prompts'), api('/admin/config')]).then(
    ([models, prompts, effective]) => {
      say(status, '');
      body.replaceChildren(
        h('section', { 'aria-labelledby': 'cat-apis' }, h('h2', { id: 'cat-apis', text: 'Client APIs' }), clientApis()),
        h('section', { 'aria-labelledby': 'cat-models' }, h('h2', { id: 'cat-models', text: 'Model groups' }), modelGroups(models.models)),
        h(
          'section',
          { 'aria-labelledby': 'cat-prompts' },
          h('h2', { id: 'cat-prompts', text: 'Prompt APIs' }),
          prompts.prompts.length ? prompts.prompts.map(promptCard) : h('p', { class: 'empty', text: 'No prompt APIs are published.' }),
        ),
        h('section', { 'aria-labelledby': 'cat-services' }, h('h2', { id: 'cat-services', text: 'REST services' }), services(effective.config.services)),
      );
    },
    (err) => say(status, `Could not load the catalog: ${err.message}`, 'error'),
  );
}
