import { bucketOf } from './budget-periods.js';
import { BUDGET_PERIODS, type BudgetPeriod } from './types.js';
import { WINDOW_MS, type Admission, type CallUsage, type SettledSpend, type UsageCounters, type WindowState } from './usage-counters.js';

interface Window {
  used: number;
  resetAt: number;
  /** The call that opened the window: a correction applies to the window it reserved in only. */
  generation: string;
}

interface Reservation {
  nano: number;
  tokens: number;
  countsTokens: boolean;
  window: Window | undefined;
  expiresAt: number;
}

/** How many settled batch ids are remembered: a replay in one process is a retry, never far behind. */
const SEEN_BATCHES = 10_000;

/**
 * Counters in process memory for the embedded store, with the Redis counters' semantics
 * (reservations, windows by generation, idempotent batches). Single-threaded JavaScript makes
 * each admission atomic as long as it does not await. Entries are per key/team and period, so
 * their number is bounded by the records the admin created and the calls in flight.
 */
export function createMemoryCounters(options: { reservationTtlMs?: number; now?: () => number } = {}): UsageCounters {
  const reservationTtlMs = options.reservationTtlMs ?? 900_000;
  const clock = options.now ?? Date.now;
  const windows = new Map<string, Window>();
  const spends = new Map<string, { bucket: string; nano: number }>();
  /** Per scope: call id → what it holds. */
  const held = new Map<string, Map<string, Reservation>>();
  const heldSum = new Map<string, number>();
  const seen = new Set<string>();

  const live = (name: string, now: number): Window | undefined => {
    const w = windows.get(name);
    return w && w.resetAt > now ? w : undefined;
  };

  const spendOf = (scope: string, period: BudgetPeriod, now: number): number => {
    const entry = spends.get(`${scope}:${period}`);
    return entry && entry.bucket === bucketOf(period, now) ? entry.nano : 0;
  };

  const add = (name: string, amount: number, now: number, generation: string): Window => {
    let w = live(name, now);
    if (!w) {
      w = { used: 0, resetAt: now + WINDOW_MS, generation };
      windows.set(name, w);
    }
    w.used += amount;
    return w;
  };

  const release = (scope: string, callId: string): Reservation | undefined => {
    const reservation = held.get(scope)?.get(callId);
    if (!reservation) return undefined;
    held.get(scope)!.delete(callId);
    heldSum.set(scope, (heldSum.get(scope) ?? 0) - reservation.nano);
    return reservation;
  };

  const prune = (scope: string, now: number): void => {
    for (const [callId, reservation] of held.get(scope) ?? []) if (reservation.expiresAt <= now) release(scope, callId);
  };

  return {
    async admit({ scopes, callId, tokens, reserveNano, count, now }): Promise<Admission> {
      let budgetUse = 0;
      if (count) {
        for (const [i, scope] of scopes.entries()) {
          if (scope.budgetNano === null && scope.tpm === null) continue;
          prune(scope.id, now);
          if (scope.budgetNano === null) continue;
          const spent = spendOf(scope.id, scope.period, now) + (heldSum.get(scope.id) ?? 0);
          if (spent >= scope.budgetNano || spent + reserveNano > scope.budgetNano) return { outcome: 'over_budget', scope: i, spentNano: spent };
          budgetUse = Math.max(budgetUse, (spent + reserveNano) / Math.max(scope.budgetNano, 1));
        }
      }
      const states: WindowState[] = scopes.map((scope) => {
        const r = live(`${scope.id}:r`, now);
        const t = live(`${scope.id}:t`, now);
        return {
          requests: r?.used ?? 0,
          requestsResetMs: r ? r.resetAt - now : WINDOW_MS,
          tokens: t?.used ?? 0,
          tokensResetMs: t ? t.resetAt - now : WINDOW_MS,
        };
      });
      if (!count) return { outcome: 'admitted', windows: states, budgetUse };
      for (const [i, scope] of scopes.entries()) {
        const state = states[i]!;
        if (scope.rpm !== null && state.requests + 1 > scope.rpm) return { outcome: 'over_rpm', scope: i, windows: states };
        if (scope.tpm !== null && state.tokens + tokens > scope.tpm) return { outcome: 'over_tpm', scope: i, windows: states };
      }
      for (const [i, scope] of scopes.entries()) {
        const state = states[i]!;
        if (scope.rpm !== null) {
          const w = add(`${scope.id}:r`, 1, now, callId);
          state.requests = w.used;
          state.requestsResetMs = w.resetAt - now;
        }
        let window: Window | undefined;
        if (scope.tpm !== null) {
          window = tokens > 0 ? add(`${scope.id}:t`, tokens, now, callId) : live(`${scope.id}:t`, now);
          if (window) {
            state.tokens = window.used;
            state.tokensResetMs = window.resetAt - now;
          }
        }
        const nano = scope.budgetNano !== null ? reserveNano : 0;
        if (nano > 0 || scope.tpm !== null) {
          if (!held.has(scope.id)) held.set(scope.id, new Map());
          held.get(scope.id)!.set(callId, { nano, tokens: scope.tpm !== null ? tokens : 0, countsTokens: scope.tpm !== null, window, expiresAt: now + reservationTtlMs });
          heldSum.set(scope.id, (heldSum.get(scope.id) ?? 0) + nano);
        }
      }
      return { outcome: 'admitted', windows: states, budgetUse };
    },

    async settle(batchId: string, calls: readonly CallUsage[]): Promise<SettledSpend[]> {
      if (seen.has(batchId)) return calls.map(() => []);
      if (seen.size >= SEEN_BATCHES) seen.clear();
      seen.add(batchId);
      const now = clock();
      return calls.map((call) =>
        call.scopeIds.map((scope) => {
          const reservation = release(scope, call.callId);
          const delta = call.tokens - (reservation?.tokens ?? 0);
          const window = reservation?.window;
          if (delta < 0 && window && live(`${scope}:t`, now) === window) window.used = Math.max(0, window.used + delta);
          else if (delta > 0 && reservation?.countsTokens) add(`${scope}:t`, delta, now, call.callId);
          const after = {} as Record<BudgetPeriod, number>;
          for (const period of BUDGET_PERIODS) {
            const name = `${scope}:${period}`;
            const bucket = bucketOf(period, call.time);
            const entry = spends.get(name);
            if (call.costNano > 0) {
              if (entry && entry.bucket === bucket) entry.nano += call.costNano;
              // A call settled after its period ended counts in that period only, not the new one.
              else if (!entry || bucket > entry.bucket) spends.set(name, { bucket, nano: call.costNano });
            }
            after[period] = spendOf(scope, period, call.time);
          }
          return after;
        }),
      );
    },

    async spend(scopes, now) {
      return scopes.map((scope) => spendOf(scope.id, scope.period, now));
    },
  };
}
