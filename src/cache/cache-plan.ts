/**
 * Whether and how one call uses the response cache: only deterministic requests (temperature
 * 0, or a scope with `any_temperature`) are cached; `cache-control: no-cache` skips the lookup
 * (the fresh answer is still stored) and `no-store` keeps the answer out of the cache.
 */
import type { ChatRequest } from '../core/types.js';
import { cacheKey } from './cache-key.js';
import type { CacheSettings } from './cache-settings.js';

/** The `x-gateway-cache` header value and the ledger's `cache_status`. */
export type CacheStatus = 'hit' | 'miss' | 'bypass';

/** Where answers are kept: a model group's cache, or a prompt API's own. */
export interface CacheScope {
  /** `model:<group>` or `prompt:<name>@<version>`: entries and size bounds are per namespace. */
  namespace: string;
  settings: CacheSettings;
}

export interface CachePlan extends CacheScope {
  /** Absent when the call bypasses the cache altogether. */
  key?: string;
  /** Look the answer up (false with `no-cache`). */
  read: boolean;
  /** Store the fresh answer (false with `no-store`). */
  write: boolean;
}

function directives(header: string | string[] | undefined): { noCache: boolean; noStore: boolean } {
  if (header === undefined) return { noCache: false, noStore: false };
  const text = (Array.isArray(header) ? header.join(',') : header).toLowerCase();
  const names = new Set(text.split(',').map((part) => part.trim().split('=')[0]));
  return { noCache: names.has('no-cache'), noStore: names.has('no-store') };
}

/** The plan for `req` to `group`; the key is hashed here, once, and only when it can be used. */
export function planCache(scope: CacheScope, group: string, req: ChatRequest, cacheControl: string | string[] | undefined): CachePlan {
  const deterministic = scope.settings.any_temperature || req.temperature === 0;
  const { noCache, noStore } = directives(cacheControl);
  const read = deterministic && !noCache;
  const write = deterministic && !noStore;
  if (!read && !write) return { ...scope, read, write };
  return { ...scope, key: cacheKey(scope.namespace, group, req), read, write };
}

/** What the call's `x-gateway-cache` says before the lookup: a miss unless it will not look. */
export function initialStatus(plan: CachePlan): CacheStatus {
  return plan.read ? 'miss' : 'bypass';
}
