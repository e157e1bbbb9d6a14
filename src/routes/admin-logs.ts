import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { LogQuery } from '../usage/ledger-store.js';
import type { LedgerRecord } from '../usage/ledger.js';
import { parseStatusFilter } from '../usage/filter-usage.js';
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

/** `GET /admin/logs`: recent request records, newest first, filtered by key, team, model, provider, route, tag, status and start time. */
export function registerAdminLogs(app: FastifyInstance): void {
  app.get('/admin/logs', { preHandler: app.gateway.requireAdmin }, async (request) => {
    const query = request.query as RawQuery;
    rejectUnknownParams(query, ['limit', 'key', 'team', 'model', 'provider', 'route', 'tag', 'status', 'since']);
    const status = single(query, 'status');
    const logQuery: LogQuery = {
      limit: integerParam(query, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT,
      since: timeParam(query, 'since'),
      keyId: single(query, 'key'),
      team: single(query, 'team'),
      model: single(query, 'model'),
      provider: single(query, 'provider'),
      route: single(query, 'route'),
      tag: single(query, 'tag'),
      status: status === undefined ? undefined : parseStatusFilter(status),
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
