import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import { addCounters, emptyCounters, USAGE_DIMENSIONS, type LedgerStore, type UsageCounters, type UsageDimension, type UsageQuery } from '../usage/ledger-store.js';
import type { Ledger } from '../usage/ledger.js';
import { list, rejectUnknownParams, single, timeParam, type RawQuery } from '../usage/query-params.js';
import { BY_TAG_NOTE, buildUsageReport, usageReportCsv } from '../usage/usage-report.js';
import { FILTER_DIMENSIONS, parseUsageFilters } from '../usage/filter-usage.js';

const DAY_MS = 86_400_000;
const DEFAULT_RANGE_MS = 30 * DAY_MS;
/** Two years of hour buckets: a bound on what one report reads. */
const MAX_RANGE_MS = 731 * DAY_MS;

function parseGroupBy(query: RawQuery): UsageDimension[] {
  const out: UsageDimension[] = [];
  for (const name of list(query, 'group_by')) {
    if (!(USAGE_DIMENSIONS as readonly string[]).includes(name)) {
      throw new GatewayError('invalid_request', `'group_by' cannot use '${name}' (allowed: ${USAGE_DIMENSIONS.join(', ')})`, { param: 'group_by' });
    }
    if (!out.includes(name as UsageDimension)) out.push(name as UsageDimension);
  }
  return out;
}

/**
 * Totals of a report grouped by tag, each call once: the per-call aggregates under the same
 * filters. With a `tag` filter every row already holds each call once (one tag), so none are read.
 */
async function perCallTotals(store: LedgerStore, query: UsageQuery): Promise<UsageCounters | undefined> {
  const filters = query.filters ?? [];
  if (!query.groupBy.includes('tag') || filters.some((filter) => filter.dim === 'tag')) return undefined;
  const totals = emptyCounters();
  for (const row of await store.usage({ from: query.from, to: query.to, groupBy: [], filters })) addCounters(totals, row.counters);
  return totals;
}

/** The store reports read; a ledger without one (a test double) has nothing to report. */
export function reportStore(ledger: Ledger): LedgerStore {
  if (!ledger.store) throw new GatewayError('service_unavailable', 'this gateway keeps no usage store to report from');
  return ledger.store;
}

export function storeUnavailable(err: unknown): GatewayError {
  return new GatewayError('service_unavailable', 'the usage store is unreachable; try again shortly', { cause: err, retryAfter: 1 });
}

/** `GET /admin/usage`: aggregates over a time range by any dimensions (tags included), optionally filtered, JSON with totals or CSV. */
export function registerAdminUsage(app: FastifyInstance): void {
  app.get('/admin/usage', { preHandler: app.gateway.requireAdmin }, async (request, reply) => {
    const query = request.query as RawQuery;
    rejectUnknownParams(query, ['from', 'to', 'group_by', 'format', ...FILTER_DIMENSIONS]);
    const now = Date.now();
    const to = timeParam(query, 'to', { endOfDay: true }) ?? now;
    const from = timeParam(query, 'from') ?? to - DEFAULT_RANGE_MS;
    if (from >= to) throw new GatewayError('invalid_request', "'from' must be earlier than 'to'", { param: 'from' });
    if (to - from > MAX_RANGE_MS) throw new GatewayError('invalid_request', 'the range can span at most 731 days', { param: 'from' });
    const format = single(query, 'format') ?? 'json';
    if (format !== 'json' && format !== 'csv') throw new GatewayError('invalid_request', "'format' must be json or csv", { param: 'format' });
    const usageQuery: UsageQuery = { from, to, groupBy: parseGroupBy(query), filters: parseUsageFilters(query) };

    const store = reportStore(app.gateway.ledger);
    let rows;
    let totals;
    try {
      [rows, totals] = await Promise.all([store.usage(usageQuery), perCallTotals(store, usageQuery)]);
    } catch (err) {
      throw storeUnavailable(err);
    }
    const report = buildUsageReport(rows, usageQuery, totals && { totals, note: BY_TAG_NOTE });
    if (format === 'json') return report;
    // `to` is exclusive: the file is named for the last day it covers, as the console shows the range.
    const lastDay = new Date(Date.parse(report.to) - 1).toISOString().slice(0, 10);
    const name = `usage-${report.from.slice(0, 10)}-${lastDay}.csv`;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(usageReportCsv(report));
  });
}
