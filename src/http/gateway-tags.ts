import { isReservedName } from '../config/names.js';

/**
 * A tag: up to 64 ASCII letters, digits and `._:/@+=-`, never a reserved name. Tags go into
 * every record and the ledger's log as they are, so nothing a log line, a CSV export or a query
 * string gives meaning to (spaces, quotes, control characters) is kept.
 */
const TAG = /^[A-Za-z0-9._:/@+=-]{1,64}$/;

/** Tags kept per call. */
export const MAX_TAGS = 16;

/**
 * Parses the `x-gateway-tags` header (comma-separated) into the ledger's tags: trimmed, each
 * once, at most 16 valid ones, so a client cannot bloat records. A tag that is not valid is
 * dropped, like an empty one: tags annotate a call, they never refuse it. Usage reports add a
 * call once under each tag, so a repeated tag would count it twice.
 */
export function parseTags(header: string | string[] | undefined): string[] {
  if (!header) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  const tags: string[] = [];
  for (const part of text.split(',')) {
    const tag = part.trim();
    if (TAG.test(tag) && !isReservedName(tag) && !tags.includes(tag)) tags.push(tag);
    if (tags.length === MAX_TAGS) break;
  }
  return tags;
}
