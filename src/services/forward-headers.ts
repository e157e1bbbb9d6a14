/**
 * Header rules at the proxy boundary: hop-by-hop headers never cross (RFC 9110 §7.6.1),
 * x-forwarded-* describe the client's request, a credential the gateway consumed (a gateway
 * key or the master key) never reaches a service, and the service's configured `set`/`remove`
 * changes apply last.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
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
  /** Names a copied header must not keep: removed, or replaced by `set`. */
  replaced: ReadonlySet<string>;
}

export interface HeaderRules {
  request: CompiledHeaderChanges;
  response: CompiledHeaderChanges;
  preserveHost: boolean;
  /** Sent as `x-forwarded-prefix` when the prefix was stripped or rewritten. */
  forwardedPrefix: string | null;
}

export function compileHeaderChanges(changes: HeaderChanges | undefined): CompiledHeaderChanges {
  const set = Object.entries(changes?.set ?? {}).map(([name, value]) => [name.toLowerCase(), value] as const);
  const remove = (changes?.remove ?? []).map((name) => name.toLowerCase());
  return { set, remove, replaced: new Set([...remove, ...set.map(([name]) => name)]) };
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

/** Headers of the client's that never go upstream as sent: hop-by-hop ones, and the ones the gateway writes itself. */
const NOT_COPIED_UPSTREAM = new Set([...REQUEST_HOP_BY_HOP, 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-prefix', 'x-real-ip', 'x-request-id']);
const NOT_COPIED_DOWNSTREAM = new Set(RESPONSE_HOP_BY_HOP);

/**
 * The credential the access stage consumed, when it must not reach the service. The caller is
 * anything but ANONYMOUS only when its presented key was taken as a gateway key or the master
 * key (src/access); a key the gateway did not recognise, where keys are optional, is the
 * caller's own and passes. The other credential header passes too (it may hold the service's
 * own key) unless it repeats the consumed secret.
 */
function consumedCredential(request: FastifyRequest): { header: string; secret: string } | undefined {
  return request.caller === ANONYMOUS ? undefined : presentedCredential(request.headers);
}

function isConsumed(consumed: { header: string; secret: string }, name: string, value: string | string[]): boolean {
  if (!(GATEWAY_CREDENTIALS as readonly string[]).includes(name)) return false;
  return name === consumed.header || (typeof value === 'string' && value.includes(consumed.secret));
}

/**
 * The headers to send upstream, built in one pass over the client's as undici's flat
 * name/value list: the client's minus hop-by-hop ones and a consumed credential, then the
 * x-forwarded-* set, `host` (the target's unless `preserve_host`), and the service's
 * `remove`/`set` changes, which apply last and so also reach the gateway's own headers.
 */
export function toUpstreamHeaders(rules: HeaderRules, request: FastifyRequest, targetHost: string, hasBody: boolean): string[] {
  const client = request.headers;
  const listed = connectionListed(client.connection);
  const consumed = consumedCredential(request);
  const replaced = rules.request.replaced;
  const out: string[] = [];
  for (const name in client) {
    const value = client[name];
    if (value === undefined || NOT_COPIED_UPSTREAM.has(name) || replaced.has(name)) continue;
    if (listed !== NOTHING && listed.includes(name)) continue;
    // A GET or HEAD body is never forwarded, so its length must not be either.
    if (!hasBody && name === 'content-length') continue;
    if (consumed && isConsumed(consumed, name, value)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const item of value) out.push(name, item);
  }
  const add = (name: string, value: string | undefined) => {
    if (value !== undefined && !replaced.has(name)) out.push(name, value);
  };
  const clientIp = request.raw.socket.remoteAddress ?? '';
  const prior = client['x-forwarded-for'];
  add('x-forwarded-for', prior ? `${String(prior)}, ${clientIp}` : clientIp);
  add('x-real-ip', clientIp);
  const clientHost = client.host;
  add('x-forwarded-host', clientHost);
  add('x-forwarded-proto', request.protocol);
  if (rules.forwardedPrefix !== null) add('x-forwarded-prefix', rules.forwardedPrefix);
  add('x-request-id', request.clientRequestId ?? request.id);
  add('host', rules.preserveHost && clientHost ? clientHost : targetHost);
  for (const [name, value] of rules.request.set) out.push(name, value);
  return out;
}

/** The upstream's response headers as the client gets them, built in one pass (the reply's own, such as `x-request-id`, are on the raw response already). */
export function toClientHeaders(rules: HeaderRules, upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(upstream.connection);
  const replaced = rules.response.replaced;
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || NOT_COPIED_DOWNSTREAM.has(name) || replaced.has(name)) continue;
    if (listed !== NOTHING && listed.includes(name)) continue;
    out[name] = value;
  }
  for (const [name, value] of rules.response.set) out[name] = value;
  return out;
}
