// One call's full ledger record, as /admin/logs answers it: every field in words, then the
// record itself as JSON (what scripts and finance see).
import { fmt, h } from '../dom.js';

const list = (items) => (items && items.length > 0 ? items.join(', ') : 'none');

/** Label and shown value of each field, in the order people ask about a call. */
const FIELDS = [
  ['Call id', (r) => h('code', { text: r.id })],
  ['Client request id', (r) => r.client_request_id ?? 'none'],
  ['Time (UTC)', (r) => fmt.seconds(r.time)],
  ['Status', (r) => `${r.status}${r.error_code ? ` (${r.error_code})` : ''}`],
  ['Route', (r) => r.route],
  ['Model group', (r) => r.model ?? 'none'],
  ['Provider', (r) => r.provider ?? 'none'],
  ['Upstream model', (r) => r.upstream_model ?? 'none'],
  ['Attempts', (r) => fmt.int(r.attempts)],
  ['Key', (r) => r.key_id ?? 'anonymous'],
  ['Team', (r) => r.team ?? 'none'],
  ['Prompt tokens', (r) => fmt.int(r.prompt_tokens)],
  ['Completion tokens', (r) => fmt.int(r.completion_tokens)],
  ['Cached tokens', (r) => fmt.int(r.cached_tokens)],
  ['Usage', (r) => (r.usage_source === 'estimated' ? 'estimated (counted by the gateway)' : 'reported by the provider')],
  ['Cost', (r) => `${fmt.usd(r.cost_usd)}${r.price_known === false ? ' (no price known)' : ''}`],
  ['Latency', (r) => fmt.ms(r.latency_ms)],
  ['Time to first token', (r) => fmt.ms(r.ttft_ms)],
  ['Cache', (r) => (r.cache_hit ? `hit, saved ${fmt.usd(r.saved_cost_usd)}` : r.cache_status ?? 'not used')],
  ['Tags', (r) => list(r.tags)],
  ['Guardrails', (r) => list(r.guardrails)],
  ['Warnings', (r) => list(r.warnings)],
];

/** Fills `section` with the record; `close()` hides it again. */
export function showRecord(section, record, close) {
  const facts = h(
    'dl',
    { class: 'facts', id: 'log-record' },
    FIELDS.flatMap(([label, show]) => {
      const value = show(record);
      return [h('dt', { text: label }), h('dd', {}, value === undefined ? '–' : value)];
    }),
  );
  section.className = 'card record';
  section.replaceChildren(
    h('h2', { id: 'log-detail-h', tabindex: '-1', text: `Call ${record.id}` }),
    facts,
    h('details', {}, h('summary', { text: 'The record as JSON' }), h('pre', { id: 'log-record-json', text: JSON.stringify(record, null, 2) })),
    h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', text: 'Close', onclick: close })),
  );
}
