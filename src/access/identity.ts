import type { Caller } from '../core/caller.js';
import type { AccessStore } from './access-store.js';
import { permissionsOf } from './permissions.js';
import { keyVersionField, teamVersionField } from './redis-access-store.js';
import type { KeyRecord, Policy, TeamRecord } from './types.js';
import type { Scope } from './usage-counters.js';

/** A known key with its team, and what follows from them, built once per record version. */
export interface Identity {
  key: KeyRecord;
  team: TeamRecord | null;
  /** The key names a team that no longer exists. */
  teamMissing: boolean;
  caller: Caller;
  /** The key's scope, then its team's. */
  scopes: readonly Scope[];
  /** Epoch ms, or null when the key never expires. */
  expiresAtMs: number | null;
  /** Any rpm, tpm or budget on the key or its team. */
  isLimited: boolean;
  /** Any tpm on the key or its team: only then are tokens estimated before the call. */
  countsTokens: boolean;
  /** Any budget on the key or its team: only then is a call's worst-case cost reserved. */
  hasBudget: boolean;
}

function scopeOf(id: string, version: number, policy: Policy): Scope {
  return {
    id,
    version,
    rpm: policy.rpm,
    tpm: policy.tpm,
    budgetNano: policy.budget_usd === null ? null : Math.round(policy.budget_usd * 1e9),
    period: policy.budget_period,
  };
}

export function buildIdentity(key: KeyRecord, team: TeamRecord | null): Identity {
  const scopes = [scopeOf(keyVersionField(key.id), key.version, key)];
  if (team) scopes.push(scopeOf(teamVersionField(team.id), team.version, team));
  const permissions = permissionsOf(key, team);
  const caller: Caller = Object.freeze({ keyId: key.id, team: key.team, ...(permissions ? { permissions } : {}) });
  return {
    key,
    team,
    teamMissing: key.team !== null && team === null,
    caller,
    scopes,
    expiresAtMs: key.expires_at === null ? null : Date.parse(key.expires_at),
    isLimited: scopes.some((s) => s.rpm !== null || s.tpm !== null || s.budgetNano !== null),
    countsTokens: scopes.some((s) => s.tpm !== null),
    hasBudget: scopes.some((s) => s.budgetNano !== null),
  };
}

interface CacheEntry {
  identity: Identity | null;
  expiresAt: number;
}

export interface ResolverOptions {
  /** How long a looked-up key is reused before it is read again, ms. */
  ttlMs?: number;
  /** Entries kept at most; the cache starts over when full. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Finds the identity of a key hash. On a shared store (Redis) identities are cached in
 * process, unknown hashes included, so the hot path does not read Redis to identify a caller.
 * That cache may lag behind another instance's change, but never unnoticed: every admission
 * compares the cached versions with Redis's in the same script that counts the call, and a
 * mismatch reloads the identity before anything is allowed (see AccessControl.admit).
 * An unknown hash can be cached safely: a secret is random and only revealed at creation, so
 * nobody presents one before its key exists.
 */
export class IdentityResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly built = new WeakMap<KeyRecord, Identity>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly store: AccessStore,
    options: ResolverOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async resolve(hash: string): Promise<Identity | null> {
    if (!this.store.shared) return this.load(hash);
    const entry = this.cache.get(hash);
    if (entry && entry.expiresAt > this.now()) return entry.identity;
    return this.reload(hash);
  }

  /** Reads the key and its team from the store, bypassing the cache. */
  async reload(hash: string): Promise<Identity | null> {
    const identity = await this.load(hash);
    if (this.store.shared) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(hash, { identity, expiresAt: this.now() + this.ttlMs });
    }
    return identity;
  }

  async byKeyId(id: string): Promise<Identity | null> {
    const key = await this.store.getKey(id);
    return key ? this.fromKey(key) : null;
  }

  private async load(hash: string): Promise<Identity | null> {
    const key = await this.store.findKeyByHash(hash);
    return key ? this.fromKey(key) : null;
  }

  private async fromKey(key: KeyRecord): Promise<Identity> {
    const team = key.team === null ? null : ((await this.store.getTeam(key.team)) ?? null);
    // The memory store hands out the same record objects until they change: reuse what was built.
    const known = this.built.get(key);
    if (known && known.team === team) return known;
    const identity = buildIdentity(key, team);
    this.built.set(key, identity);
    return identity;
  }
}
