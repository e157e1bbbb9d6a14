/**
 * Prometheus metrics fed from ledger records: counters and histograms kept as plain numbers
 * per label set, rendered by hand in the text exposition format (version 0.0.4). Observing a
 * record is a few map lookups; rendering walks the series once.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import { UNKNOWN_NAME } from '../config/names.js';
import type { LedgerRecord, LedgerStats } from '../usage/ledger.js';

/**
 * The label values the gateway itself defines, read from the current config. Any other value a
 * record carries (a refused call's, a made-up name) is counted as `unknown`, so the series stay
 * as many as the config makes, whatever clients send.
 */
export interface KnownNames {
  /** A configured model group. */
  isGroup(name: string): boolean;
  /** A configured provider. */
  isProvider(name: string): boolean;
  /** A ledger route the gateway serves: one of API_ROUTES (`chat`, `responses`, `messages`, `completions`, `embeddings`), `prompt:<prompt>`, `service:<service>`. */
  isRoute(route: string): boolean;
}

/**
 * Label sets per metric beyond which new ones are folded into `_other`. Only a backstop now that
 * labels take known values: a config with thousands of groups or prompts.
 */
const MAX_SERIES = 2000;
const OTHER = '_other';
const LATENCY_BUCKETS_S = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TTFT_BUCKETS_S = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  return `{${names.map((name, i) => `${name}="${escapeLabel(values[i] ?? '')}"`).join(',')}}`;
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Series of one metric family, keyed by their label values. */
class Family<T> {
  private readonly series = new Map<string, { values: string[]; data: T }>();

  constructor(
    readonly labelNames: readonly string[],
    private readonly create: () => T,
  ) {}

  /** The label values and series of the last `get`: calls in a row mostly name the same series, found without a key string. */
  private last: { values: readonly string[]; data: T } | undefined;

  get(values: string[]): T {
    const last = this.last;
    if (last && sameValues(last.values, values)) return last.data;
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      if (this.series.size >= MAX_SERIES) return this.other();
      entry = { values, data: this.create() };
      this.series.set(key, entry);
    }
    this.last = entry;
    return entry.data;
  }

  /** The one series past the cap, outside the count so it can always be made. */
  private other(): T {
    const values = this.labelNames.map(() => OTHER);
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      entry = { values, data: this.create() };
      this.series.set(key, entry);
    }
    return entry.data;
  }

  entries(): Iterable<{ values: string[]; data: T }> {
    return this.series.values();
  }
}

interface Histogram {
  /** Per-bucket counts (not cumulative); the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

function observeHistogram(h: Histogram, bounds: readonly number[], value: number): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  h.counts[i]! += 1;
  h.sum += value;
  h.count += 1;
}

function renderHistogram(out: string[], name: string, help: string, family: Family<Histogram>, bounds: readonly number[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  for (const { values, data } of family.entries()) {
    const base = family.labelNames.map((label, i) => `${label}="${escapeLabel(values[i] ?? '')}"`).join(',');
    const sep = base ? ',' : '';
    let cumulative = 0;
    bounds.forEach((bound, i) => {
      cumulative += data.counts[i]!;
      out.push(`${name}_bucket{${base}${sep}le="${bound}"} ${cumulative}`);
    });
    out.push(`${name}_bucket{${base}${sep}le="+Inf"} ${data.count}`);
    out.push(`${name}_sum${base ? `{${base}}` : ''} ${data.sum}`);
    out.push(`${name}_count${base ? `{${base}}` : ''} ${data.count}`);
  }
}

function renderCounter(out: string[], name: string, help: string, type: 'counter' | 'gauge', family: Family<{ value: number }>, scale = 1): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const { values, data } of family.entries()) out.push(`${name}${labelText(family.labelNames, values)} ${data.value / scale}`);
}

const counter = () => ({ value: 0 });

export class GatewayMetrics {
  private readonly requests = new Family(['route', 'model', 'provider', 'status'], counter);
  private readonly tokens = new Family(['model', 'provider', 'type'], counter);
  /** nano-USD, rendered as USD. */
  private readonly cost = new Family(['model', 'provider'], counter);
  private readonly upstreamErrors = new Family(['provider', 'code'], counter);
  private readonly latency = new Family(['route', 'model', 'provider'], () => ({ counts: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 }));
  private readonly ttft = new Family(['route', 'model', 'provider'], () => ({ counts: new Array<number>(TTFT_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 }));
  private readonly cacheRequests = new Family(['model', 'result'], counter);
  /** nano-USD, rendered as USD. */
  private readonly cacheSaved = new Family(['model'], counter);
  private readonly guardrailRefusals = new Family(['model', 'rule'], counter);
  private readonly guardrailRedactions = new Family(['model', 'rule'], counter);

  constructor(
    private readonly known: KnownNames,
    private readonly ledgerStats: () => LedgerStats | undefined = () => undefined,
    /** Calls waiting for an identical call in flight (the response cache's coalescing). */
    private readonly cacheWaiting: () => number = () => 0,
  ) {}

  /** A ledger listener: called once per finished call. */
  observe(record: LedgerRecord): void {
    const model = this.modelLabel(record.model);
    const provider = this.providerLabel(record.provider);
    const route = this.known.isRoute(record.route) ? record.route : UNKNOWN_NAME;
    this.requests.get([route, model, provider, String(record.status)]).value += 1;
    if (record.prompt_tokens > 0) this.tokens.get([model, provider, 'prompt']).value += record.prompt_tokens;
    if (record.completion_tokens > 0) this.tokens.get([model, provider, 'completion']).value += record.completion_tokens;
    if (record.cached_tokens > 0) this.tokens.get([model, provider, 'cached']).value += record.cached_tokens;
    if (record.cost_nano_usd > 0) this.cost.get([model, provider]).value += record.cost_nano_usd;
    observeHistogram(this.latency.get([route, model, provider]), LATENCY_BUCKETS_S, record.latency_ms / 1000);
    if (record.ttft_ms !== null) observeHistogram(this.ttft.get([route, model, provider]), TTFT_BUCKETS_S, record.ttft_ms / 1000);
    if (record.provider && record.error_code?.startsWith('upstream_')) this.upstreamErrors.get([provider, record.error_code]).value += 1;
    if (record.cache_status) this.cacheRequests.get([model, record.cache_status]).value += 1;
    if (record.saved_cost_nano_usd) this.cacheSaved.get([model]).value += record.saved_cost_nano_usd;
    if (record.guardrails) this.observeGuardrails(model, record.guardrails, record.error_code === 'guardrail_violation');
  }

  /** Empty when the call named no model; a direct `<provider>/<model>` counts as `<provider>/*` (clients pick those names freely). */
  private modelLabel(model: string | null): string {
    if (model === null) return '';
    if (this.known.isGroup(model)) return model;
    const slash = model.indexOf('/');
    const provider = slash > 0 ? model.slice(0, slash) : undefined;
    return provider !== undefined && this.known.isProvider(provider) ? `${provider}/*` : UNKNOWN_NAME;
  }

  /** Empty when no provider was reached. */
  private providerLabel(provider: string | null): string {
    if (provider === null) return '';
    return this.known.isProvider(provider) ? provider : UNKNOWN_NAME;
  }

  /** A refused call's last rule is the one that refused it; the rules of a call that went on redacted. */
  private observeGuardrails(model: string, rules: readonly string[], refused: boolean): void {
    if (refused) {
      const rule = rules[rules.length - 1];
      if (rule) this.guardrailRefusals.get([model, rule]).value += 1;
      return;
    }
    for (const rule of rules) this.guardrailRedactions.get([model, rule]).value += 1;
  }

  render(): string {
    const out: string[] = [];
    renderCounter(out, 'konnect_requests_total', 'AI calls answered, by route, model group, provider and HTTP status.', 'counter', this.requests);
    renderCounter(out, 'konnect_tokens_total', 'Tokens billed, by type (prompt includes cached).', 'counter', this.tokens);
    renderCounter(out, 'konnect_cost_usd_total', 'Cost of AI calls in USD.', 'counter', this.cost, 1e9);
    renderHistogram(out, 'konnect_request_duration_seconds', 'Time from request to last byte of an AI call.', this.latency, LATENCY_BUCKETS_S);
    renderHistogram(out, 'konnect_ttft_seconds', 'Time to first token of streamed calls.', this.ttft, TTFT_BUCKETS_S);
    renderCounter(out, 'konnect_upstream_errors_total', 'Calls that ended on an upstream error, by provider and error code.', 'counter', this.upstreamErrors);
    renderCounter(out, 'konnect_cache_requests_total', 'Calls to model groups or prompts with a response cache, by result (hit, miss, bypass).', 'counter', this.cacheRequests);
    out.push(
      '# HELP konnect_cache_waiting Calls waiting for an identical call in flight to answer them (response cache coalescing).',
      '# TYPE konnect_cache_waiting gauge',
      `konnect_cache_waiting ${this.cacheWaiting()}`,
    );
    renderCounter(out, 'konnect_cache_saved_usd_total', 'What the answers served from the response cache cost when they were fetched, USD.', 'counter', this.cacheSaved, 1e9);
    renderCounter(out, 'konnect_guardrail_refusals_total', 'Calls refused by a guardrail, by the rule that refused them.', 'counter', this.guardrailRefusals);
    renderCounter(out, 'konnect_guardrail_redactions_total', 'Calls whose messages were redacted before the provider saw them, by kind of data.', 'counter', this.guardrailRedactions);
    const stats = this.ledgerStats();
    if (stats) {
      out.push(
        '# HELP konnect_ledger_queue_depth Ledger records waiting in memory for the store.',
        '# TYPE konnect_ledger_queue_depth gauge',
        `konnect_ledger_queue_depth ${stats.queued}`,
        '# HELP konnect_ledger_write_failures_total Failed ledger store writes (retried).',
        '# TYPE konnect_ledger_write_failures_total counter',
        `konnect_ledger_write_failures_total ${stats.write_failures}`,
        '# HELP konnect_ledger_records_written_total Ledger records written to the store.',
        '# TYPE konnect_ledger_records_written_total counter',
        `konnect_ledger_records_written_total ${stats.written}`,
        '# HELP konnect_ledger_records_spooled_total Ledger records saved to the local spool file.',
        '# TYPE konnect_ledger_records_spooled_total counter',
        `konnect_ledger_records_spooled_total ${stats.spooled}`,
        '# HELP konnect_ledger_records_replayed_total Spooled ledger records written to the store after all.',
        '# TYPE konnect_ledger_records_replayed_total counter',
        `konnect_ledger_records_replayed_total ${stats.replayed}`,
        '# HELP konnect_ledger_records_dropped_total Ledger records lost (spool unwritable).',
        '# TYPE konnect_ledger_records_dropped_total counter',
        `konnect_ledger_records_dropped_total ${stats.dropped}`,
        '# HELP konnect_ledger_store_up 1 while ledger store writes succeed.',
        '# TYPE konnect_ledger_store_up gauge',
        `konnect_ledger_store_up ${stats.store_ok ? 1 : 0}`,
      );
    }
    return `${out.join('\n')}\n`;
  }
}
