/**
 * Helpers of the usage-report suites: a gateway on the offline mock provider, calls with tags,
 * waiting until their records are in the store, and the admin reports read back.
 */
import { startGateway, type TestGateway } from './gateway.js';
import { REDIS_URL } from './redis.js';

export const MASTER = 'mk-usage-test';

export interface LogEntry {
  id: string;
  time: string;
  key_id: string | null;
  team: string | null;
  route: string;
  model: string | null;
  provider: string | null;
  upstream_model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  status: number;
  tags: string[];
}

export type ReportRow = Record<string, string | number | null>;

export interface UsageReport {
  group_by: string[];
  rows: ReportRow[];
  totals: ReportRow;
  note?: string;
}

/** `prefix`: a Redis key prefix (the Redis store), or none (the memory store). */
export function storeConfig(prefix: string | undefined) {
  return prefix ? { redis_url: REDIS_URL, key_prefix: prefix } : {};
}

export async function adminGet(gw: TestGateway, path: string): Promise<Response> {
  return fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
}

export async function adminJson<T>(gw: TestGateway, path: string): Promise<T> {
  const res = await adminGet(gw, path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function adminPost<T>(gw: TestGateway, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Resolves once the gateway has recorded `count` more calls, then writes them to the store.
 * A stream's record is made when its socket closes, which may be after the client saw the end.
 */
export function recordsAfter(gw: TestGateway, count: number): { done: Promise<void> } {
  const ledger = gw.app.gateway.ledger;
  let seen = 0;
  let resolve: () => void = () => undefined;
  const recorded = new Promise<void>((r) => (resolve = r));
  const remove = ledger.onRecord(() => {
    if (++seen === count) resolve();
  });
  return {
    done: recorded.then(async () => {
      remove();
      await ledger.flush();
    }),
  };
}

export interface ChatCall {
  model: string;
  tags?: string;
  key?: string;
  stream?: boolean;
  /** A body the gateway refuses (400), still recorded. */
  bad?: boolean;
}

/** One chat call over HTTP; answers the status. Streams are read to their end. */
export async function chat(gw: TestGateway, call: ChatCall): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (call.tags !== undefined) headers['x-gateway-tags'] = call.tags;
  if (call.key) headers.authorization = `Bearer ${call.key}`;
  const body = call.bad
    ? { model: call.model, messages: 'not a list' }
    : { model: call.model, messages: [{ role: 'user', content: 'Say something short.' }], stream: call.stream ?? false };
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

/** Every record in the log (the suites write far fewer than the limit). */
export async function allLogs(gw: TestGateway, query = ''): Promise<LogEntry[]> {
  return (await adminJson<{ records: LogEntry[] }>(gw, `/admin/logs?limit=1000${query}`)).records;
}

export function startUsageGateway(options: { prefix?: string; ledger?: Record<string, unknown>; providers?: Record<string, unknown>; models?: unknown[] }) {
  return startGateway({
    store: storeConfig(options.prefix),
    auth: { master_key: MASTER },
    providers: options.providers ?? { demo: { type: 'mock' } },
    models: options.models ?? [
      { name: 'fast', deployments: [{ provider: 'demo', model: 'mock-fast', price: { input: 1.5, output: 6 } }] },
      { name: 'smart', deployments: [{ provider: 'demo', model: 'mock-smart', price: { input: 30, output: 60 } }] },
    ],
    prompts: { dir: '/nonexistent-prompts-dir' },
    ledger: { flush_interval_ms: 20, ...options.ledger },
  });
}

/** Sums of what the usage report shows, from log entries, nano-USD exact. */
export function sumOf(entries: readonly LogEntry[]) {
  return {
    requests: entries.length,
    errors: entries.filter((e) => e.status >= 400).length,
    prompt_tokens: entries.reduce((n, e) => n + e.prompt_tokens, 0),
    completion_tokens: entries.reduce((n, e) => n + e.completion_tokens, 0),
    cost_nano: entries.reduce((n, e) => n + Math.round(e.cost_usd * 1e9), 0),
  };
}

/** The same sums, read from a report row. */
export function sumOfRow(row: ReportRow | undefined) {
  return {
    requests: row?.requests ?? 0,
    errors: row?.errors ?? 0,
    prompt_tokens: row?.prompt_tokens ?? 0,
    completion_tokens: row?.completion_tokens ?? 0,
    cost_nano: Math.round(Number(row?.cost_usd ?? 0) * 1e9),
  };
}
