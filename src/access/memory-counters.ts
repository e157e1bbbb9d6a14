import { bucketOf } from './budget-periods.js';
import { BUDGET_PERIODS, type BudgetPeriod } from './types.js';
import { WINDOW_MS, type Admission, type UsageCounters, type WindowState } from './usage-counters.js';

interface Window {
  used: number;
  resetAt: number;
}

/**
 * Counters in process memory for the embedded store. Single-threaded JavaScript makes each
 * admission atomic as long as it does not await. Entries are per key/team and period, so
 * their number is bounded by the records the admin created.
 */
export function createMemoryCounters(): UsageCounters {
  const windows = new Map<string, Window>();
  const spends = new Map<string, { bucket: string; nano: number }>();

  const live = (name: string, now: number): Window | undefined => {
    const w = windows.get(name);
    return w && w.resetAt > now ? w : undefined;
  };

  const spendOf = (scope: string, period: BudgetPeriod, now: number): number => {
    const entry = spends.get(`${scope}:${period}`);
    return entry && entry.bucket === bucketOf(period, now) ? entry.nano : 0;
  };

  const add = (name: string, amount: number, now: number): Window => {
    let w = live(name, now);
    if (!w) {
      w = { used: 0, resetAt: now + WINDOW_MS };
      windows.set(name, w);
    }
    w.used += amount;
    return w;
  };

  return {
    async admit({ scopes, tokens, count, now }): Promise<Admission> {
      if (count) {
        for (const [i, scope] of scopes.entries()) {
          if (scope.budgetNano === null) continue;
          const spent = spendOf(scope.id, scope.period, now);
          if (spent >= scope.budgetNano) return { outcome: 'over_budget', scope: i, spentNano: spent };
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
      if (!count) return { outcome: 'admitted', windows: states };
      for (const [i, scope] of scopes.entries()) {
        const state = states[i]!;
        if (scope.rpm !== null && state.requests + 1 > scope.rpm) return { outcome: 'over_rpm', scope: i, windows: states };
        if (scope.tpm !== null && state.tokens + tokens > scope.tpm) return { outcome: 'over_tpm', scope: i, windows: states };
      }
      for (const [i, scope] of scopes.entries()) {
        const state = states[i]!;
        if (scope.rpm !== null) {
          const w = add(`${scope.id}:r`, 1, now);
          state.requests = w.used;
          state.requestsResetMs = w.resetAt - now;
        }
        if (scope.tpm !== null && tokens > 0) {
          const w = add(`${scope.id}:t`, tokens, now);
          state.tokens = w.used;
          state.tokensResetMs = w.resetAt - now;
        }
      }
      return { outcome: 'admitted', windows: states };
    },

    async settle({ scopes, tokenDelta, costNano, now }) {
      return scopes.map((scope) => {
        if (scope.tpm !== null && tokenDelta !== 0) {
          // A window that already reset keeps nothing of this call to correct.
          const w = live(`${scope.id}:t`, now);
          if (w) w.used = Math.max(0, w.used + tokenDelta);
        }
        if (costNano > 0) {
          for (const period of BUDGET_PERIODS) {
            const name = `${scope.id}:${period}`;
            const bucket = bucketOf(period, now);
            const entry = spends.get(name);
            if (entry && entry.bucket === bucket) entry.nano += costNano;
            else spends.set(name, { bucket, nano: costNano });
          }
        }
        return spendOf(scope.id, scope.period, now);
      });
    },

    async spend(scopes, now) {
      return scopes.map((scope) => spendOf(scope.id, scope.period, now));
    },
  };
}
