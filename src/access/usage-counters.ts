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
  | { outcome: 'admitted'; windows: WindowState[] }
  /** A record changed since the caller read it: reload and ask again. Nothing was counted. */
  | { outcome: 'stale' }
  | { outcome: 'over_budget'; scope: number; spentNano: number }
  | { outcome: 'over_rpm' | 'over_tpm'; scope: number; windows: WindowState[] };

export interface AdmitRequest {
  scopes: readonly Scope[];
  /** Estimated tokens of the call (prompt + max completion), reserved in every tpm window. */
  tokens: number;
  /** False: only check that the records are current (routes that spend nothing). */
  count: boolean;
  now: number;
}

export interface Settlement {
  scopes: readonly Scope[];
  /** Real tokens minus the reserved estimate, applied to scopes with a tpm limit. */
  tokenDelta: number;
  /** The call's cost, added to every period's spend of every scope. */
  costNano: number;
  now: number;
}

/**
 * Minute windows and spend counters, atomic per call: all scopes are checked, then all are
 * counted, or none is. Spend is kept for every period at once, so a budget set later, or a
 * period changed, counts what was already spent.
 */
export interface UsageCounters {
  admit(request: AdmitRequest): Promise<Admission>;
  /** Answers each scope's spend in its own period after the settlement, nano-USD. */
  settle(settlement: Settlement): Promise<number[]>;
  /** Each scope's spend in its own period, nano-USD. */
  spend(scopes: readonly Scope[], now: number): Promise<number[]>;
}
