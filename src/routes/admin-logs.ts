import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { LogQuery } from '../usage/ledger-store.js';
import type { LedgerRecord } from '../usage/ledger.js';
import { integerParam, rejectUnknownParams, single, timeParam, type RawQuery } from '../usage/query-params.js';
import { reportStore, storeUnavailable } from './admin-usage.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** A request record as `/admin/logs` shows it (docs/cost-reports.md): cost in USD, time as ISO. */
export function toLogEntry(record: LedgerRecord) {
  return {
    id: record.id,
    client_request_id: record.client_request_id,
    time: new Date(record.time).toISOString(),
    key_id: record.key_id,
    team: record.team,
    route: record.route,
    model: record.model,
    provider: record.provider,
    upstream_model: record.upstream_model,
    prompt_tokens: record.prompt_tokens,
    completion_tokens: record.completion_tokens,
    cached_tokens: record.cached_tokens,
    usage_source: record.usage_source,
    cost_usd: record.cost_nano_usd / 1e9,
    price_known: record.price_known,
    latency_ms: record.latency_ms,
    ttft_ms: record.ttft_ms,
    status: record.status,
    error_code: record.error_code ?? null,
    attempts: record.attempts,
    tags: record.tags,
    cache_hit: record.cache_hit,
    cache_status: record.cache_status ?? null,
    saved_cost_usd: (record.saved_cost_nano_usd ?? 0) / 1e9,
    guardrails: record.guardrails ?? [],
    warnings: record.warnings ?? [],
  };
}

function parseStatus(query: RawQuery): LogQuery['status'] {
  const text = single(query, 'status');
  if (text === undefined) return undefined;
  if (/^[1-5]\d\d$/.test(text)) return { exact: Number(text) };
  if (/^[1-5]xx$/i.test(text)) return { class: Number(text[0]) };
  throw new GatewayError('invalid_request', "'status' must be an HTTP status (429) or a class (5xx)", { param: 'status' });
}

/** `GET /admin/logs`: recent request records, newest first, filtered by key, model, status and start time. */
export function registerAdminLogs(app: FastifyInstance): void {
  app.get('/admin/logs', { preHandler: app.gateway.requireAdmin }, async (request) => {
    const query = request.query as RawQuery;
    rejectUnknownParams(query, ['limit', 'key', 'model', 'status', 'since']);
    const logQuery: LogQuery = {
      limit: integerParam(query, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT,
      since: timeParam(query, 'since'),
      keyId: single(query, 'key'),
      model: single(query, 'model'),
      status: parseStatus(query),
    };
    const store = reportStore(app.gateway.ledger);
    let records;
    try {
      records = await store.logs(logQuery);
    } catch (err) {
      throw storeUnavailable(err);
    }
    return { records: records.map(toLogEntry) };
  });
}
