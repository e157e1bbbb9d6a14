/**
 * Query strings in log lines: a key passed as `?api_key=…` (some SDKs and webhooks do) must not
 * land in the logs verbatim. Works on the raw text, so the rest of the URL is logged exactly as
 * received (no re-encoding, no normalisation).
 */
import type { FastifyRequest } from 'fastify';

/** What replaces a redacted value. */
export const REDACTED = '****';

/** Query names whose values are credentials in practice (`api_key`, `access_token`, `sig`, `code`, `password`…). */
const SECRET_QUERY_NAME = /key|token|secret|sig|code|pass|auth/i;

/** The query name as a reader sees it (`api%5Fkey`, `api+key` decoded); the raw text where it is malformed. */
function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * `query` (the text after `?`, without it) rewritten part by part: `replace(name, value)` answers
 * a `name=value` part's new value, or for a part without `=` (value undefined) its new text;
 * undefined keeps the part. Names are decoded for `replace` and written back as they were.
 */
export function rewriteQuery(query: string, replace: (name: string, value: string | undefined) => string | undefined): string {
  return query
    .split('&')
    .map((part) => {
      if (part === '') return part;
      const equals = part.indexOf('=');
      if (equals === -1) return replace(decodeName(part), undefined) ?? part;
      const rawName = part.slice(0, equals);
      const next = replace(decodeName(rawName), part.slice(equals + 1));
      return next === undefined ? part : `${rawName}=${next}`;
    })
    .join('&');
}

/** A request URL (path and query) with the values of secret-looking query parameters redacted. */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  if (question === -1) return url;
  const hash = url.indexOf('#', question);
  const end = hash === -1 ? url.length : hash;
  const query = rewriteQuery(url.slice(question + 1, end), (name, value) =>
    value !== undefined && value !== '' && SECRET_QUERY_NAME.test(name) ? REDACTED : undefined,
  );
  return `${url.slice(0, question + 1)}${query}${url.slice(end)}`;
}

/** Fastify's `req` log serializer (its own error and request lines use it): its fields, the URL redacted. */
export function serializeRequest(req: FastifyRequest): { method: string; url: string; version?: string; host: string; remoteAddress: string; remotePort?: number } {
  const version = req.headers['accept-version'];
  return {
    method: req.method,
    url: redactUrl(req.url),
    version: typeof version === 'string' ? version : undefined,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
