import type { AuditEntry, KeyRecord, Subscription, SubscriptionKind, TeamRecord } from './types.js';

/**
 * Where teams, keys, subscriptions and the audit log live: process memory (embedded default)
 * or Redis (shared by every instance). Updates are compare-and-set on `version`, so two admins
 * editing one record never silently lose a change.
 */
export interface AccessStore {
  /** True when other instances can change records behind this one's back (Redis). */
  readonly shared: boolean;

  /** The stored team (its `version` set by the store), or undefined when the id is taken. */
  createTeam(team: TeamRecord): Promise<TeamRecord | undefined>;
  getTeam(id: string): Promise<TeamRecord | undefined>;
  listTeams(): Promise<TeamRecord[]>;
  /** Writes `next` only if the stored version is `next.version - 1`; false otherwise. */
  replaceTeam(next: TeamRecord): Promise<boolean>;
  /** Deletes only if the stored version is `version`; false otherwise. */
  deleteTeam(id: string, version: number): Promise<boolean>;

  /** The stored key, its `version` set by the store. */
  createKey(key: KeyRecord): Promise<KeyRecord>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  findKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  listKeys(): Promise<KeyRecord[]>;
  replaceKey(next: KeyRecord): Promise<boolean>;

  /**
   * Creates or overwrites a subscription, keeping the approved index in step with its status.
   * There is one subscription per team and prompt/service; a revoked one is approved again.
   */
  putSubscription(sub: Subscription): Promise<void>;
  getSubscription(id: string): Promise<Subscription | undefined>;
  findSubscription(team: string, kind: SubscriptionKind, name: string): Promise<Subscription | undefined>;
  listSubscriptions(): Promise<Subscription[]>;
  isApproved(team: string, kind: SubscriptionKind, name: string): Promise<boolean>;

  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(limit: number): Promise<AuditEntry[]>;
}

/** How many audit entries a store keeps. */
export const AUDIT_CAPACITY = 10_000;

export function approvalMember(team: string, kind: SubscriptionKind, name: string): string {
  return `${team}\u0000${kind}\u0000${name}`;
}
