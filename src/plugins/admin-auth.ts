import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { GatewayError } from '../core/errors.js';

/** The caller's secret from `Authorization: Bearer …` or `x-api-key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth && auth.startsWith('Bearer ')) return auth.slice(7).trim() || undefined;
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

/** Compares secrets in constant time (hashing first makes lengths equal). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** A preHandler for `/admin/*`: only the master key passes. */
export function requireMasterKey(masterKey: string) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!masterKey) {
      throw new GatewayError('forbidden', 'the admin API is off: set auth.master_key (GATEWAY_MASTER_KEY) to use it');
    }
    const key = presentedKey(request);
    if (!key) throw new GatewayError('unauthorized', 'the admin API needs the master key as a Bearer token or x-api-key');
    if (!secretsEqual(key, masterKey)) throw new GatewayError('invalid_api_key', 'the key is not the master key');
  };
}

/**
 * Puts the master-key check first in `onRequest` of every `/admin` route, as it registers: a
 * caller without the key gets 401 before its body is parsed or validated (a 400 first would let
 * anyone probe the admin API's schemas), and no admin route can forget its guard. Register it
 * before the admin routes. Routes that also name `requireAdmin` as a preHandler keep working;
 * the second check finds the same key.
 */
export function registerAdminAuth(app: FastifyInstance, masterKey: string): void {
  const check = requireMasterKey(masterKey);
  const guard: onRequestHookHandler = (request) => check(request);
  app.addHook('onRoute', (route) => {
    if (route.url !== '/admin' && !route.url.startsWith('/admin/')) return;
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    // Fastify may hand the same options on for the HEAD twin of a GET route: guard once.
    if (!existing.includes(guard)) route.onRequest = [guard, ...existing];
  });
}
