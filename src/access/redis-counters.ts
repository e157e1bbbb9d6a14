import type { Redis } from 'ioredis';
import { coalesceWrites } from '../store/coalesced-writes.js';
import { BUCKET_TTL_S, bucketOf } from './budget-periods.js';
import { accessKeys } from './redis-access-store.js';
import { ADMIT, SETTLE } from './redis-counter-scripts.js';
import { RedisClock } from './redis-clock.js';
import { BUDGET_PERIODS } from './types.js';
import { WINDOW_MS, type Admission, type CallUsage, type Scope, type SettledSpend, type UsageCounters, type WindowState } from './usage-counters.js';

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;

export interface RedisCounterOptions {
  /** How long a reservation whose call never settles (its instance died) holds, ms. */
  reservationTtlMs?: number;
  /**
   * How long the caller waits for an admission, ms (the connection's command timeout): a script
   * that Redis runs later than that refuses itself, so a refusal never leaves a count behind.
   */
  admitTimeoutMs?: number;
  /** How long a settled batch id is remembered, so a replay counts once, s. */
  dedupeTtlS?: number;
}

/** Margin under the command timeout: a script this close to it refuses itself rather than race the caller's give-up. */
const DEADLINE_MARGIN_MS = 250;

export function createRedisCounters(redis: Redis, prefix: string, options: RedisCounterOptions = {}): UsageCounters {
  const versions = accessKeys(prefix).versions;
  const reservationTtlMs = options.reservationTtlMs ?? 900_000;
  const admitTimeoutMs = options.admitTimeoutMs ?? 2000;
  const dedupeTtlS = options.dedupeTtlS ?? 7 * 86_400;
  const clock = new RedisClock(redis);
  // Scope ids (`k:…`, `t:…`) go inside braces-free keys: each scope's keys share its id.
  const scopeKeys = (id: string) => ({
    requests: `${prefix}rl:${id}:r`,
    tokens: `${prefix}rl:${id}:t`,
    generation: `${prefix}rl:${id}:tg`,
    held: `${prefix}resv:${id}`,
    expiries: `${prefix}resv:${id}:x`,
    heldSum: `${prefix}resv:${id}:sum`,
  });
  const spendKey = (id: string, period: Scope['period'], at: number) => `${prefix}spend:${id}:${bucketOf(period, at)}`;

  // ioredis sends EVAL on a connection's first use and EVALSHA after, so commands keep their order.
  redis.defineCommand('konnectAccessAdmit', { lua: ADMIT });
  redis.defineCommand('konnectAccessSettle', { lua: SETTLE });
  const commands = redis as unknown as Record<'konnectAccessAdmit' | 'konnectAccessSettle', ScriptCall>;

  return {
    async admit({ scopes, callId, tokens, reserveNano, count, now }): Promise<Admission> {
      const keys: string[] = [versions];
      const offset = clock.offsetMs();
      const deadline = offset === undefined ? 0 : now + offset + admitTimeoutMs - DEADLINE_MARGIN_MS;
      const args: Array<string | number> = [tokens, WINDOW_MS, count ? 1 : 0, deadline, callId, reserveNano, reservationTtlMs];
      for (const scope of scopes) {
        const k = scopeKeys(scope.id);
        keys.push(k.requests, k.tokens, k.generation, spendKey(scope.id, scope.period, now), k.held, k.expiries, k.heldSum);
        args.push(scope.id, scope.version, scope.rpm ?? 0, scope.tpm ?? 0, scope.budgetNano ?? -1);
      }
      coalesceWrites(redis);
      const answer = (await commands.konnectAccessAdmit.call(redis, keys.length, ...keys, ...args)) as number[];
      const [outcome, which, spent] = answer as [number, number, number];
      if (outcome === 5) return { outcome: 'late' };
      if (outcome === 1) return { outcome: 'stale' };
      if (outcome === 2) return { outcome: 'over_budget', scope: which - 1, spentNano: spent };
      const windows: WindowState[] = scopes.map((_, i) => ({
        requests: answer[3 + i * 4]!,
        requestsResetMs: answer[4 + i * 4]!,
        tokens: answer[5 + i * 4]!,
        tokensResetMs: answer[6 + i * 4]!,
      }));
      if (outcome === 3) return { outcome: 'over_rpm', scope: which - 1, windows };
      if (outcome === 4) return { outcome: 'over_tpm', scope: which - 1, windows };
      return { outcome: 'admitted', windows, budgetUse: which / 1e6 };
    },

    async settle(batchId: string, calls: readonly CallUsage[]): Promise<SettledSpend[]> {
      const keys: string[] = [`${prefix}settled:${batchId}`];
      const args: Array<string | number> = [dedupeTtlS, BUCKET_TTL_S.day, BUCKET_TTL_S.week, BUCKET_TTL_S.month, WINDOW_MS];
      for (const call of calls) {
        for (const id of call.scopeIds) {
          const k = scopeKeys(id);
          keys.push(k.held, k.expiries, k.heldSum, k.tokens, k.generation, ...BUDGET_PERIODS.map((period) => spendKey(id, period, call.time)));
          args.push(call.callId, call.tokens, call.costNano);
        }
      }
      coalesceWrites(redis);
      const answer = (await commands.konnectAccessSettle.call(redis, keys.length, ...keys, ...args)) as number[];
      // A batch settled before (a replay after an outage): nothing was counted again.
      if (answer[0] === -1) return calls.map(() => []);
      const out: SettledSpend[] = [];
      let at = 0;
      for (const call of calls) {
        const spends: SettledSpend = [];
        for (let s = 0; s < call.scopeIds.length; s++, at += 4) {
          spends.push({ day: answer[at] ?? 0, week: answer[at + 1] ?? 0, month: answer[at + 2] ?? 0, total: answer[at + 3] ?? 0 });
        }
        out.push(spends);
      }
      return out;
    },

    async spend(scopes, now) {
      if (scopes.length === 0) return [];
      const values = await redis.mget(scopes.map((scope) => spendKey(scope.id, scope.period, now)));
      return values.map((value) => Number(value ?? 0));
    },
  };
}
