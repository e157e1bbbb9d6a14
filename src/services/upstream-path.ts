/**
 * Maps a request path to the path sent upstream so that nothing a client writes can reach
 * outside the service's prefix. Plain `.`/`..` segments are resolved (and may not climb out of
 * the prefix), repeated slashes collapse; encoded dots, slashes, backslashes, NULs and the
 * `..;` form (which Java servers read as `..`) are refused, because the upstream would decode
 * them after our check. The same goes for them encoded twice or more (`%252e%252e`): an
 * upstream behind another proxy, or one that decodes twice, would see `..` again. The client's
 * percent-encoding is otherwise forwarded as sent.
 */
import { GatewayError } from '../core/errors.js';

export interface PathRule {
  /** The configured prefix without a trailing slash; '' for `/`. */
  prefix: string;
  /** The prefix's segments, decoded: `/api/users` → ['api', 'users']. */
  prefixSegments: readonly string[];
  /** What stands for the prefix upstream: '' (stripped), the prefix itself, or the rewrite. No trailing slash. */
  upstreamPrefix: string;
}

export function toPathRule(prefix: string, upstreamPrefix: string): PathRule {
  const trimmed = prefix.replace(/\/+$/, '');
  return {
    prefix: trimmed,
    prefixSegments: trimmed.split('/').filter(Boolean).map((s) => decodeURIComponent(s)),
    upstreamPrefix: upstreamPrefix.replace(/\/+$/, ''),
  };
}

// Anything that needs the careful walk: encodings, dot segments, doubled slashes, backslashes, fragments.
const NEEDS_WALK = /%|\/\/|\/\.|\\|#/;
const DECODED_SEPARATOR = /[/\\\0]/;

function refuse(reason: string): GatewayError {
  return new GatewayError('invalid_request', `the request path is not allowed: ${reason}`, { param: 'path' });
}

function joinUpstream(upstreamPrefix: string, rest: string): string {
  const path = upstreamPrefix + rest;
  return path === '' ? '/' : path;
}

/**
 * The upstream path for `rawPath` (no query string), or throws a 400 GatewayError. `rawPath`
 * is what the router matched to this service, so it normally starts with the prefix; an
 * encoded prefix (`/api/%75sers`) is decoded for the comparison.
 */
export function toUpstreamPath(rawPath: string, rule: PathRule): string {
  const { prefix } = rule;
  if (rawPath.startsWith(prefix) && (rawPath.length === prefix.length || rawPath.charCodeAt(prefix.length) === 47)) {
    const rest = rawPath.slice(prefix.length);
    // The common case: nothing to decode or resolve, so the rest goes through as it is.
    if (!NEEDS_WALK.test(rest)) return joinUpstream(rule.upstreamPrefix, rest);
  }
  return walk(rawPath, rule);
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw refuse('malformed percent-encoding');
  }
}

/** Decodings beyond the first that are checked: `%25252e` is three levels deep. */
const MAX_EXTRA_DECODINGS = 4;
/** Escapes of ASCII characters: the ones that matter here (`.`, `/`, `\`, NUL, `;`, `%`) are all ASCII. */
const ASCII_ESCAPE = /%[0-7][0-9A-Fa-f]/g;

/** A lenient decoder, as upstreams are: malformed or non-ASCII escapes stay as they are. */
function decodeAsciiEscapes(text: string): string {
  return text.replace(ASCII_ESCAPE, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)));
}

/** Refuses a decoded segment that is a separator or a dot segment in disguise. */
function checkDecoded(plain: string, encoded: string): void {
  if (DECODED_SEPARATOR.test(plain)) throw refuse(`${encoded} slash, backslash or NUL`);
  const semicolon = plain.indexOf(';');
  const bare = semicolon === -1 ? plain : plain.slice(0, semicolon);
  if (bare === '.' || bare === '..') throw refuse(encoded === 'encoded' ? 'disguised dot segment' : `${encoded} dot segment`);
}

/** What the segment becomes after further decodings, each checked like the first. */
function checkDeeperDecodings(plain: string): void {
  let current = plain;
  for (let i = 0; i < MAX_EXTRA_DECODINGS && current.includes('%'); i++) {
    const next = decodeAsciiEscapes(current);
    if (next === current) return;
    checkDecoded(next, 'multiply encoded');
    current = next;
  }
}

function walk(rawPath: string, rule: PathRule): string {
  if (rawPath.charCodeAt(0) !== 47) throw refuse('it must start with /');
  if (rawPath.includes('\\')) throw refuse('backslash');
  if (rawPath.includes('#')) throw refuse('fragment');
  const segments = rawPath.split('/');
  const kept: string[] = [];
  const decoded: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (kept.length === 0) throw refuse('it climbs above the root');
      kept.pop();
      decoded.pop();
      continue;
    }
    const plain = decodeSegment(segment);
    checkDecoded(plain, 'encoded');
    if (plain.includes('%')) checkDeeperDecodings(plain);
    kept.push(segment);
    decoded.push(plain);
  }
  const { prefixSegments } = rule;
  if (decoded.length < prefixSegments.length) throw refuse("it leaves the service's prefix");
  for (let i = 0; i < prefixSegments.length; i++) {
    if (decoded[i] !== prefixSegments[i]) throw refuse("it leaves the service's prefix");
  }
  const last = segments[segments.length - 1];
  const trailingSlash = segments.length > 1 && (last === '' || last === '.' || last === '..');
  const restSegments = kept.slice(prefixSegments.length);
  let rest = restSegments.length > 0 ? `/${restSegments.join('/')}` : '';
  if (trailingSlash) rest += '/';
  return joinUpstream(rule.upstreamPrefix, rest);
}
