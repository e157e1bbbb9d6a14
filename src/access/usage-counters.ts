import type { BudgetPeriod } from './types.js';

/** Rate-limit windows last 60 s from their first request. */
export const WINDOW_MS = 60_000;

/** One party a call counts against: its key or its team. */
export interface Scope {
  /** `k:<key id>` or `t:<team id>`; also the record's field in the versions hash. */
  id: string;
  /** Version of the record the limits below came from; a shared store answers `stale` once it moved on. */
  version: number;
  /** Requests per minute; null: unlimited. */
  rpm: number | null;
  /** Tokens per minute; null: unlimited. */
  tpm: number | null;
  /** Budget in nano-USD per `period`; null: none. */
  budgetNano: number | null;
  period: BudgetPeriod;
}

/** A scope's minute windows after the admission. */
export interface WindowState {
  requests: number;
  /** ms until the request window resets. */
  requestsResetMs: number;
  tokens: number;
  tokensResetMs: number;
}

export type Admission =
  /** `budgetUse`: the largest share of a budget now spent or reserved, this call included (0: no budget). */
  | { outcome: 'admitted'; windows: WindowState[]; budgetUse: number }
  /** The store ran the admission after the caller had stopped waiting for it: nothing was counted. */
  | { outcome: 'late' }
  /** A record changed since the caller read it: reload and ask again. Nothing was counted. */
  | { outcome: 'stale' }
  | { outcome: 'over_budget'; scope: number; spentNano: number }
  | { outcome: 'over_rpm' | 'over_tpm'; scope: number; windows: WindowState[] };

export interface AdmitRequest {
  scopes: readonly Scope[];
  /** The call's own id: its reservation is filed under it, and its settlement finds it there. */
  callId: string;
  /** Tokens of the call (prompt + max completion), reserved in every tpm window. */
  tokens: number;
  /** The call's worst-case cost, reserved against every scope with a budget, nano-USD. */
  reserveNano: number;
  /** False: only check that the records are current (routes that spend nothing). */
  count: boolean;
  now: number;
}

/** What a settled call did: from its ledger record. */
export interface CallUsage {
  callId: string;
  /** `k:<key id>`, then `t:<team id>` when the key has a team. */
  scopeIds: readonly string[];
  /** Prompt + completion tokens the call really used. */
  tokens: number;
  costNano: number;
  /** Epoch ms when the call started: its spend lands in the periods of that time. */
  time: number;
}

/** A settled call's spend afterwards, per scope, per period, nano-USD. */
export type SettledSpend = Array<Record<BudgetPeriod, number>>;

/**
 * Minute windows, reservations and spend counters, atomic per call: all scopes are checked,
 * then all are counted, or none is. Spend is kept for every period at once, so a budget set
 * later, or a period changed, counts what was already spent.
 */
export interface UsageCounters {
  admit(request: AdmitRequest): Promise<Admission>;
  /**
   * Settles calls: releases each call's reservation (found by its call id), corrects the tpm
   * window it was taken in (a window that has since rolled over is left alone) and adds the
   * cost to every period's spend. Writing the same `batchId` again is a no-op, so a batch
   * replayed after an outage counts once. Answers each call's spend afterwards.
   */
  settle(batchId: string, calls: readonly CallUsage[]): Promise<SettledSpend[]>;
  /** Each scope's spend in its own period, nano-USD. */
  spend(scopes: readonly Scope[], now: number): Promise<number[]>;
}
