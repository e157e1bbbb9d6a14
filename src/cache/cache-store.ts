/**
 * Where cached answers live: one interface, a memory implementation (one instance) and a Redis
 * one (shared by every instance on that Redis). Values are opaque strings; each namespace (a
 * model group or prompt API) is bounded on its own.
 */

/** Bounds of one namespace, from its `cache:` settings. */
export interface EntryLimits {
  ttlMs: number;
  maxEntries: number;
}

/** Answers larger than this are not cached: a few such answers would crowd out thousands of small ones. */
export const MAX_ENTRY_BYTES = 1024 * 1024;

export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /** The stored value, or undefined when absent or expired. Rejects when the store is unreachable. */
  get(namespace: string, key: string): Promise<string | undefined>;
  /** Stores a value for `limits.ttlMs`, evicting the namespace's oldest entries past `limits.maxEntries`. */
  set(namespace: string, key: string, value: string, limits: EntryLimits): Promise<void>;
  close(): Promise<void>;
}
