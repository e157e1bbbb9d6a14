// Deployments: health, cooldowns, load, latency and error rate from GET /admin/deployments,
// refreshed every few seconds while the page is open and the tab is visible; below, each
// configured provider with a "Check" button (POST /admin/providers/:name/check: one call with a
// one-token answer, with the running config's key and base URL) and its answer.
import { api } from '../api.js';
import { fmt, h, say, table } from '../dom.js';

const REFRESH_MS = 5000;

function state(d) {
  if (d.state === 'healthy') return h('span', { class: 'badge ok', text: '✓ healthy' });
  const until = d.cooldown_until ? ` until ${d.cooldown_until.slice(11, 19)} UTC` : '';
  return h('span', { class: 'badge bad', text: `⚠ ${d.state}${until}${d.probing ? ', probing' : ''}` });
}

/** One check's answer, as text: the provider's own words when it refused. */
function checkAnswer(r) {
  if (r.ok) return { kind: 'ok', text: `✓ ${r.model}: answered in ${fmt.ms(r.latency_ms)}${r.upstream_model ? ` (${r.upstream_model})` : ''}` };
  const said = r.status === null ? `no answer (${r.kind})` : `HTTP ${r.status}`;
  return { kind: 'bad', text: `⚠ ${r.model}: ${said}: ${r.error}` };
}

/** The providers section: names from /health (on and off), a check button and an answer cell each. */
function providersSection() {
  const body = h('div');
  const section = h(
    'section',
    { 'aria-labelledby': 'providers-heading' },
    h('h2', { id: 'providers-heading', text: 'Providers' }),
    h('p', { class: 'muted', text: "Check sends one call with a one-token answer through the provider's SDK, with the key and base URL of the running config, to the model of its first deployment." }),
    body,
  );
  async function check(name, button, out) {
    button.disabled = true;
    out.className = 'check-answer muted';
    out.textContent = 'checking…';
    try {
      const { kind, text } = checkAnswer(await api(`/admin/providers/${encodeURIComponent(name)}/check`, { method: 'POST', body: {} }));
      out.className = `check-answer ${kind}`;
      out.textContent = text;
    } catch (err) {
      // 409: off for want of a key (the message names the variable); 404, 400: said as is.
      out.className = 'check-answer bad';
      out.textContent = `⚠ ${err.message}`;
    } finally {
      button.disabled = false;
    }
  }
  api('/health').then(
    ({ providers }) => {
      const rows = [...providers.enabled.map((name) => ({ name, on: true })), ...providers.disabled_no_key.map((name) => ({ name, on: false }))];
      body.replaceChildren(
        table({
          columns: [
            { label: 'Provider', key: 'name', value: (p) => p.name },
            { label: 'Key', key: 'key', value: (p) => (p.on ? h('span', { class: 'badge ok', text: '✓ on' }) : h('span', { class: 'badge warn', text: 'off: no key' })) },
            {
              label: 'Check',
              key: 'check',
              value: (p) => {
                const out = h('span', { class: 'check-answer', 'aria-live': 'polite', 'data-provider': p.name });
                const button = h('button', { type: 'button', class: 'secondary small', text: 'Check', 'aria-label': `Check provider ${p.name}`, onclick: () => check(p.name, button, out) });
                return h('span', { class: 'check' }, button, ' ', out);
              },
            },
          ],
          rows,
          empty: 'No providers are configured.',
          attrs: { class: 'data', id: 'providers-table' },
        }),
      );
    },
    (err) => body.replaceChildren(h('p', { class: 'notice error', text: `Could not load providers: ${err.message}` })),
  );
  return section;
}

// One limit per line: the column stays narrow enough for the table to fit a 1366 px screen.
const limits = (l) => (l ? h('span', {}, Object.entries(l).map(([name, value]) => h('span', { class: 'line', text: `${name} ${fmt.int(value)}` }))) : 'none');

export function mount(root) {
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const updated = h('p', { class: 'muted', id: 'deployments-updated', 'aria-live': 'off' });
  const body = h('div');
  root.append(
    h('h1', { text: 'Deployments' }),
    h('p', { class: 'lead', text: `Health as this gateway instance sees it (cooldowns are shared between instances; load and latency are per instance). Refreshed every ${REFRESH_MS / 1000} s.` }),
    h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', text: 'Refresh now', onclick: () => load() })),
    updated,
    status,
    body,
    providersSection(),
  );

  let lastCooling = null;
  async function load() {
    let deployments;
    try {
      ({ deployments } = await api('/admin/deployments'));
    } catch (err) {
      say(status, `Could not load deployments: ${err.message}`, 'error');
      return;
    }
    const cooling = deployments.filter((d) => d.state !== 'healthy').length;
    // Announce changes in health only, not every refresh.
    say(status, cooling === lastCooling ? status.textContent : cooling ? `${cooling} of ${deployments.length} deployments cooling down.` : `All ${deployments.length} deployments healthy.`, cooling ? 'error' : 'ok');
    lastCooling = cooling;
    updated.textContent = `Last updated ${new Date().toISOString().slice(11, 19)} UTC`;
    body.replaceChildren(
      table({
        columns: [
          { label: 'Deployment', key: 'id', value: (d) => d.id },
          { label: 'Group', key: 'group', value: (d) => `${d.group} (${d.strategy})` },
          { label: 'Provider / model', key: 'model', value: (d) => `${d.provider} / ${d.model}` },
          { label: 'Weight', key: 'weight', numeric: true, value: (d) => d.weight },
          { label: 'Health', key: 'state', value: state },
          { label: 'In flight', key: 'in_flight', numeric: true, value: (d) => d.in_flight, format: fmt.int },
          { label: 'Latency', key: 'latency_ms', numeric: true, value: (d) => d.latency_ms, format: fmt.ms },
          { label: 'First token', key: 'ttft_ms', numeric: true, value: (d) => d.ttft_ms, format: fmt.ms },
          { label: 'Error rate', key: 'error_rate', numeric: true, value: (d) => d.error_rate, format: fmt.pct },
          { label: 'Recent calls', key: 'requests', numeric: true, value: (d) => d.requests, format: fmt.int },
          { label: 'Failures', key: 'failures', numeric: true, value: (d) => d.failures, format: fmt.int },
          { label: 'Limits', key: 'limits', value: (d) => limits(d.limits) },
        ],
        rows: deployments,
        empty: 'No deployments are configured.',
        attrs: { class: 'data', id: 'deployments-table' },
      }),
    );
  }

  load();
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') load();
  }, REFRESH_MS);
  return () => clearInterval(timer);
}
