import { isReservedName } from '../config/names.js';

/**
 * A tag: up to 64 ASCII letters, digits and `._:/@+=-`, never a reserved name. Tags go into
 * every record and the ledger's log as they are, so nothing a log line, a CSV export or a query
 * string gives meaning to (spaces, quotes, control characters) is kept.
 */
const TAG = /^[A-Za-z0-9._:/@+=-]{1,64}$/;

/**
 * Parses the `x-gateway-tags` header (comma-separated) into the ledger's tags: trimmed, at most
 * 16 valid ones, so a client cannot bloat records. A tag that is not valid is dropped, like an
 * empty one: tags annotate a call, they never refuse it.
 */
export function parseTags(header: string | string[] | undefined): string[] {
  if (!header) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  return text
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => TAG.test(tag) && !isReservedName(tag))
    .slice(0, 16);
}
