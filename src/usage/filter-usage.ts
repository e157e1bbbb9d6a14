/**
 * Usage report filters (`route=completions`, `team=search`, `status=5xx`, `tag=nightly`…). The
 * stores keep aggregates per dimension tuple, so a filter is a test on a tuple's value that the
 * grouper applies before adding it up: counters are sums, so filtered totals stay exact.
 */
import { GatewayError } from '../core/errors.js';
import { matchesStatus, type StatusFilter, type UsageFilter } from './ledger-store.js';
import { single, type RawQuery } from './query-params.js';

/** Query parameters a report can be filtered by: the stored dimensions (`day` and `hour` are the range's job). */
export const FILTER_DIMENSIONS = ['team', 'key', 'model', 'provider', 'route', 'upstream_model', 'status', 'tag'] as const;
export type FilterDimension = (typeof FILTER_DIMENSIONS)[number];

/** `429`, or a class such as `5xx`, for `/admin/usage` and `/admin/logs` alike. */
export function parseStatusFilter(text: string): StatusFilter {
  if (/^[1-5]\d\d$/.test(text)) return { exact: Number(text) };
  if (/^[1-5]xx$/i.test(text)) return { class: Number(text[0]) };
  throw new GatewayError('invalid_request', "'status' must be an HTTP status (429) or a class (5xx)", { param: 'status' });
}

function filterOf(dim: FilterDimension, value: string): UsageFilter {
  if (dim === 'status') {
    const status = parseStatusFilter(value);
    // Aggregates written before statuses were stored carry none: no status filter matches them.
    return { dim, matches: (stored) => stored !== null && matchesStatus(Number(stored), status) };
  }
  return { dim, matches: (stored) => stored === value };
}

/** The filters a report query names: one value each; several filters all hold. */
export function parseUsageFilters(query: RawQuery): UsageFilter[] {
  const filters: UsageFilter[] = [];
  for (const dim of FILTER_DIMENSIONS) {
    const value = single(query, dim);
    if (value !== undefined) filters.push(filterOf(dim, value));
  }
  return filters;
}
