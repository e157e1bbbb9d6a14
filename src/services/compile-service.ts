/**
 * Turns a service's config into what the request path uses, once at boot: the path rule,
 * method set, header rules, target pool and limits. Nothing here runs per request.
 */
import { ConfigError } from '../config/load-config.js';
import type { ServiceConfig, ServiceMethod } from '../config/types.js';
import { ConnectionGate } from './connection-gate.js';
import { compileHeaderChanges, type HeaderRules } from './forward-headers.js';
import { createTargetPool, type ServiceTarget, type TargetPool } from './target-pool.js';
import { toPathRule, type PathRule } from './upstream-path.js';

const DEFAULT_METHODS: readonly ServiceMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Safe to send twice (RFC 9110 §9.2.2), so safe to retry on another target. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export interface CompiledService {
  name: string;
  /** Ledger route: `service:<name>`. */
  route: string;
  path: PathRule;
  methods: ReadonlySet<string>;
  /** The `allow` header of a 405. */
  allowHeader: string;
  headers: HeaderRules;
  pool: TargetPool;
  /** ms. */
  timeoutMs: number;
  /** How long a client may keep bytes waiting without reading before it is cut, ms. */
  writeIdleMs: number;
  /** The target's bound on requests in flight (`connections`, waits up to `timeout_ms`). */
  gateOf(target: ServiceTarget): ConnectionGate;
  retries: number;
  /** bytes. */
  bodyLimit: number;
  isIdempotent(method: string): boolean;
  config: ServiceConfig;
}

export interface CompileOptions {
  /** `server.body_limit_mb`, the default limit. */
  defaultBodyLimitMb: number;
  now?: () => number;
  random?: () => number;
}

/** Plain path segments only: the router reads `:` and `*` as parameters, and `%`, `?`, `#` or dot segments would make the prefix mean something else. */
const PLAIN_PATH = /^(\/[A-Za-z0-9_~!$&'()+,;=@.-]+)*\/?$/;

function checkService(service: ServiceConfig, index: number): void {
  const faults: string[] = [];
  for (const [key, path] of [['prefix', service.prefix], ['rewrite', service.rewrite]] as const) {
    if (path === undefined) continue;
    if (!PLAIN_PATH.test(path) || path.split('/').some((s) => s === '.' || s === '..')) {
      faults.push(`/services/${index}/${key}: "${path}" must be a plain path (letters, digits, - . _ ~ and the like; no : * % ? # or dot segments)`);
    }
  }
  service.targets.forEach((target, j) => {
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      faults.push(`/services/${index}/targets/${j}/url: "${target.url}" is not a URL`);
      return;
    }
    if (url.username || url.password) faults.push(`/services/${index}/targets/${j}/url: credentials belong in request_headers, not the URL`);
    if (url.search || url.hash) faults.push(`/services/${index}/targets/${j}/url: a target URL cannot carry a query or fragment`);
  });
  if (faults.length > 0) throw new ConfigError(faults);
}

export function compileService(service: ServiceConfig, index: number, options: CompileOptions): CompiledService {
  checkService(service, index);
  const prefix = service.prefix.replace(/\/+$/, '');
  const upstreamPrefix = service.rewrite ?? (service.strip_prefix ? '' : prefix);
  const methods = new Set<string>(service.methods ?? DEFAULT_METHODS);
  const pool = createTargetPool(service.targets, {
    maxFails: service.health.max_fails,
    cooldownMs: service.health.cooldown_ms,
    now: options.now,
    random: options.random,
  });
  const gates = new Map(pool.targets.map((target) => [target, new ConnectionGate(service.connections, service.timeout_ms)]));
  return {
    name: service.name,
    route: `service:${service.name}`,
    path: toPathRule(prefix, upstreamPrefix),
    methods,
    allowHeader: [...methods].join(', '),
    headers: {
      request: compileHeaderChanges(service.request_headers),
      response: compileHeaderChanges(service.response_headers),
      preserveHost: service.preserve_host,
      forwardedPrefix: upstreamPrefix !== prefix && prefix !== '' ? prefix : null,
    },
    pool,
    timeoutMs: service.timeout_ms,
    // The service's one timeout: a client that stops reading holds an upstream connection too.
    writeIdleMs: service.timeout_ms,
    gateOf: (target) => gates.get(target)!,
    retries: service.retries,
    bodyLimit: Math.round((service.body_limit_mb ?? options.defaultBodyLimitMb) * 1024 * 1024),
    isIdempotent: (method) => IDEMPOTENT.has(method),
    config: service,
  };
}
