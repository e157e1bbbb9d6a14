/**
 * Parses the `x-gateway-tags` header (comma-separated) into the ledger's tags: trimmed,
 * non-empty, at most 16 of at most 64 characters each, so a client cannot bloat records.
 */
export function parseTags(header: string | string[] | undefined): string[] {
  if (!header) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  return text
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0 && tag.length <= 64)
    .slice(0, 16);
}
