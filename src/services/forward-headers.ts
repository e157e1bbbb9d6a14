/**
 * Header rules at the proxy boundary: hop-by-hop headers never cross (RFC 9110 §7.6.1),
 * x-forwarded-* describe the client's request, a credential the gateway consumed (a gateway
 * key or the master key) never reaches a service, and the service's configured `set`/`remove`
 * changes apply last.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { HeaderChanges } from '../config/types.js';
import { ANONYMOUS } from '../core/caller.js';
import { presentedCredential } from '../http/presented-credential.js';

/** Per connection, not per message; `expect` too, because undici refuses to send it and the gateway already answered `100-continue`. */
const REQUEST_HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings'];
const RESPONSE_HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
/** Where a client presents a gateway key. */
const GATEWAY_CREDENTIALS = ['authorization', 'x-api-key'] as const;

export interface CompiledHeaderChanges {
  set: ReadonlyArray<readonly [string, string]>;
  remove: readonly string[];
}

export interface HeaderRules {
  request: CompiledHeaderChanges;
  response: CompiledHeaderChanges;
  preserveHost: boolean;
  /** Sent as `x-forwarded-prefix` when the prefix was stripped or rewritten. */
  forwardedPrefix: string | null;
}

export function compileHeaderChanges(changes: HeaderChanges | undefined): CompiledHeaderChanges {
  return {
    set: Object.entries(changes?.set ?? {}).map(([name, value]) => [name.toLowerCase(), value] as const),
    remove: (changes?.remove ?? []).map((name) => name.toLowerCase()),
  };
}

const NOTHING: readonly string[] = [];

/** Names listed in a `connection` header are hop-by-hop for that message. */
function connectionListed(value: string | string[] | undefined): readonly string[] {
  // The usual values list no header names: skip the parse on the hot path.
  if (typeof value !== 'string' || value === 'keep-alive' || value === 'close') return NOTHING;
  return value
    .toLowerCase()
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}

/**
 * Removes the credential the access stage consumed. The caller is anything but ANONYMOUS only
 * when its presented key was taken as a gateway key or the master key (src/access); a key the
 * gateway did not recognise, where keys are optional, is the caller's own and passes. The
 * other credential header passes too (it may hold the service's own key) unless it repeats
 * the consumed secret.
 */
function dropConsumedCredential(request: FastifyRequest, headers: IncomingHttpHeaders): void {
  if (request.caller === ANONYMOUS) return;
  const consumed = presentedCredential(request.headers);
  if (!consumed) return;
  for (const name of GATEWAY_CREDENTIALS) {
    const value = headers[name];
    if (name === consumed.header || (typeof value === 'string' && value.includes(consumed.secret))) headers[name] = undefined;
  }
}

/**
 * Rewrites the headers reply-from is about to send upstream (already a copy of the client's,
 * with `host` set to the target). Undefined values are dropped by undici, which is cheaper
 * than `delete`.
 */
export function toUpstreamHeaders(rules: HeaderRules, request: FastifyRequest, headers: IncomingHttpHeaders, hasBody: boolean): IncomingHttpHeaders {
  for (const name of connectionListed(headers.connection)) headers[name] = undefined;
  // Only names present are cleared: assigning the absent ones would add ten keys to every request's headers.
  for (const name of REQUEST_HOP_BY_HOP) if (headers[name] !== undefined) headers[name] = undefined;
  // A GET or HEAD body is never forwarded, so its length must not be either.
  if (!hasBody && headers['content-length'] !== undefined) headers['content-length'] = undefined;
  dropConsumedCredential(request, headers);

  const clientIp = request.raw.socket.remoteAddress ?? '';
  const prior = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${clientIp}` : clientIp;
  headers['x-real-ip'] = clientIp;
  const clientHost = request.headers.host;
  headers['x-forwarded-host'] = clientHost;
  headers['x-forwarded-proto'] = request.protocol;
  if (rules.forwardedPrefix !== null) headers['x-forwarded-prefix'] = rules.forwardedPrefix;
  else if (headers['x-forwarded-prefix'] !== undefined) headers['x-forwarded-prefix'] = undefined;
  headers['x-request-id'] = request.clientRequestId ?? request.id;
  if (rules.preserveHost && clientHost) headers.host = clientHost;

  for (const name of rules.request.remove) headers[name] = undefined;
  for (const [name, value] of rules.request.set) headers[name] = value;
  return headers;
}

/** Rewrites the upstream's response headers before they are copied to the client's reply. */
export function toClientHeaders(rules: HeaderRules, request: FastifyRequest, headers: IncomingHttpHeaders): IncomingHttpHeaders {
  // `delete`, not undefined: reply-from copies every key, and Node refuses undefined values.
  for (const name of connectionListed(headers.connection)) delete headers[name];
  for (const name of RESPONSE_HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
  if (headers['x-request-id'] === undefined) headers['x-request-id'] = request.clientRequestId ?? request.id;
  for (const name of rules.response.remove) delete headers[name];
  for (const [name, value] of rules.response.set) headers[name] = value;
  return headers;
}
