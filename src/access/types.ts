/**
 * Records of the access layer: teams, keys, subscriptions and the audit log, as the admin API
 * shows them and the stores keep them. Times are ISO-8601 strings; money is USD.
 */

export type BudgetPeriod = 'day' | 'week' | 'month' | 'total';

export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month', 'total'];

/** What a key or a team may use and how much; a key's own policy and its team's both hold. */
export interface Policy {
  /** Model groups (or `provider/model` names) that may be called; empty: all. */
  models: string[];
  /** Prompt APIs that may be called; empty: all. */
  prompts: string[];
  /** REST services that may be called; empty: all. */
  services: string[];
  /** Requests per minute; null: unlimited. */
  rpm: number | null;
  /** Tokens (prompt + completion) per minute; null: unlimited. */
  tpm: number | null;
  /** USD that may be spent per `budget_period`; null: unlimited. */
  budget_usd: number | null;
  budget_period: BudgetPeriod;
}

export interface TeamRecord extends Policy {
  /** A slug, written to the ledger as `team`. */
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
  /** Bumped on every change; instances compare it to know their cached copy is current. */
  version: number;
}

export interface KeyRecord extends Policy {
  id: string;
  name: string;
  /** A team id, or null for a key of its own. */
  team: string | null;
  /** sha256 (hex) of the secret: the only form in which the secret is kept. */
  hash: string;
  /** `sk-konnect-…abcd`, enough for a person to tell keys apart. */
  hint: string;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export type SubscriptionKind = 'prompt' | 'service';
export type SubscriptionStatus = 'pending' | 'approved' | 'revoked';

/** A team's standing to call a prompt API or service that has `approval: required`. */
export interface Subscription {
  id: string;
  team: string;
  kind: SubscriptionKind;
  /** The prompt's or service's name. */
  name: string;
  status: SubscriptionStatus;
  created_at: string;
  updated_at: string;
}

/** One admin action: who, what, when. Never holds a secret. */
export interface AuditEntry {
  time: string;
  /** The credential that acted (`master`) and where from. */
  actor: string;
  ip: string;
  /** `team.create`, `key.revoke`, `subscription.approve`… */
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

export const EMPTY_POLICY: Readonly<Policy> = Object.freeze({
  models: [],
  prompts: [],
  services: [],
  rpm: null,
  tpm: null,
  budget_usd: null,
  budget_period: 'total',
});
