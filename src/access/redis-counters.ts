import type { Redis } from 'ioredis';
import { BUCKET_TTL_S, bucketOf } from './budget-periods.js';
import { accessKeys } from './redis-access-store.js';
import { BUDGET_PERIODS } from './types.js';
import { WINDOW_MS, type Admission, type Scope, type UsageCounters, type WindowState } from './usage-counters.js';

/**
 * Admission in one round trip: versions current, budgets not spent, then every rpm/tpm window
 * has room, then count in all of them, atomically for every instance on this Redis.
 * Windows are counters that expire 60 s after their first request (PEXPIRE), so Redis's own
 * clock times them and instances need no synchronised clocks.
 * KEYS: versions hash, then per scope: requests window, tokens window, spend bucket.
 * ARGV: tokens, window ms, count (1/0), then per scope: version field, version, rpm (0 none),
 * tpm (0 none), budget nano (-1 none).
 * Answers: outcome (0 admitted, 1 stale, 2 budget, 3 rpm, 4 tpm), scope (1-based), spent,
 * then per scope: requests, requests reset ms, tokens, tokens reset ms.
 */
const ADMIT = `
local n = (#KEYS - 1) / 3
local tokens = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local count = ARGV[3] == '1'
for i = 1, n do
  local a = 3 + (i - 1) * 5
  if redis.call('HGET', KEYS[1], ARGV[a + 1]) ~= ARGV[a + 2] then return {1, i, 0} end
end
for i = 1, n do
  local a = 3 + (i - 1) * 5
  local budget = tonumber(ARGV[a + 5])
  if count and budget >= 0 then
    local spent = tonumber(redis.call('GET', KEYS[(i - 1) * 3 + 4]) or '0')
    if spent >= budget then return {2, i, spent} end
  end
end
local out = {0, 0, 0}
local function ttl(key)
  local t = redis.call('PTTL', key)
  if t < 0 then return window end
  return t
end
for i = 1, n do
  local a = 3 + (i - 1) * 5
  local k = (i - 1) * 3 + 1
  local rpm, tpm = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local req = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
  local tok = tonumber(redis.call('GET', KEYS[k + 2]) or '0')
  if count and out[1] == 0 then
    if rpm > 0 and req + 1 > rpm then out[1], out[2] = 3, i
    elseif tpm > 0 and tok + tokens > tpm then out[1], out[2] = 4, i end
  end
  out[#out + 1] = req
  out[#out + 1] = ttl(KEYS[k + 1])
  out[#out + 1] = tok
  out[#out + 1] = ttl(KEYS[k + 2])
end
if out[1] ~= 0 or not count then return out end
for i = 1, n do
  local a = 3 + (i - 1) * 5
  local k = (i - 1) * 3 + 1
  local o = 3 + (i - 1) * 4
  if tonumber(ARGV[a + 3]) > 0 then
    out[o + 1] = redis.call('INCR', KEYS[k + 1])
    if redis.call('PTTL', KEYS[k + 1]) < 0 then redis.call('PEXPIRE', KEYS[k + 1], window) end
    out[o + 2] = ttl(KEYS[k + 1])
  end
  if tonumber(ARGV[a + 4]) > 0 and tokens > 0 then
    out[o + 3] = redis.call('INCRBY', KEYS[k + 2], tokens)
    if redis.call('PTTL', KEYS[k + 2]) < 0 then redis.call('PEXPIRE', KEYS[k + 2], window) end
    out[o + 4] = ttl(KEYS[k + 2])
  end
end
return out
`;

/**
 * After a call: corrects each tpm window by (real - estimated) tokens, if that window still
 * runs, and adds the cost to the day, week, month and total spend of each scope.
 * KEYS per scope: tokens window, then spend buckets day, week, month, total.
 * ARGV: token delta, cost nano, ttl s of day, week, month buckets, then per scope: has tpm
 * (1/0), index (1-4) of the period whose spend to answer.
 */
const SETTLE = `
local n = #KEYS / 5
local delta, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local ttls = {tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), 0}
local out = {}
for i = 1, n do
  local k = (i - 1) * 5
  local a = 5 + (i - 1) * 2
  if ARGV[a + 1] == '1' and delta ~= 0 and redis.call('EXISTS', KEYS[k + 1]) == 1 then
    if redis.call('INCRBY', KEYS[k + 1], delta) < 0 then redis.call('SET', KEYS[k + 1], 0, 'KEEPTTL') end
  end
  for p = 1, 4 do
    if cost > 0 then
      local v = redis.call('INCRBY', KEYS[k + 1 + p], cost)
      if v == cost and ttls[p] > 0 then redis.call('EXPIRE', KEYS[k + 1 + p], ttls[p]) end
    end
  end
  out[i] = tonumber(redis.call('GET', KEYS[k + 1 + tonumber(ARGV[a + 2])]) or '0')
end
return out
`;

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;

export function createRedisCounters(redis: Redis, prefix: string): UsageCounters {
  const versions = accessKeys(prefix).versions;
  const requestsKey = (scope: Scope) => `${prefix}rl:${scope.id}:r`;
  const tokensKey = (scope: Scope) => `${prefix}rl:${scope.id}:t`;
  const spendKey = (scope: Scope, period: Scope['period'], now: number) => `${prefix}spend:${scope.id}:${bucketOf(period, now)}`;

  // ioredis sends EVAL on a connection's first use and EVALSHA after, so commands keep their order.
  redis.defineCommand('konnectAccessAdmit', { lua: ADMIT });
  redis.defineCommand('konnectAccessSettle', { lua: SETTLE });
  const commands = redis as unknown as Record<'konnectAccessAdmit' | 'konnectAccessSettle', ScriptCall>;

  return {
    async admit({ scopes, tokens, count, now }): Promise<Admission> {
      const keys: string[] = [versions];
      const args: Array<string | number> = [tokens, WINDOW_MS, count ? 1 : 0];
      for (const scope of scopes) {
        keys.push(requestsKey(scope), tokensKey(scope), spendKey(scope, scope.period, now));
        args.push(scope.id, scope.version, scope.rpm ?? 0, scope.tpm ?? 0, scope.budgetNano ?? -1);
      }
      const answer = (await commands.konnectAccessAdmit.call(redis, keys.length, ...keys, ...args)) as number[];
      const [outcome, which, spent] = answer as [number, number, number];
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
      return { outcome: 'admitted', windows };
    },

    async settle({ scopes, tokenDelta, costNano, now }) {
      const keys: string[] = [];
      const args: Array<string | number> = [tokenDelta, costNano, BUCKET_TTL_S.day, BUCKET_TTL_S.week, BUCKET_TTL_S.month];
      for (const scope of scopes) {
        keys.push(tokensKey(scope), ...BUDGET_PERIODS.map((period) => spendKey(scope, period, now)));
        args.push(scope.tpm !== null ? 1 : 0, BUDGET_PERIODS.indexOf(scope.period) + 1);
      }
      return (await commands.konnectAccessSettle.call(redis, keys.length, ...keys, ...args)) as number[];
    },

    async spend(scopes, now) {
      if (scopes.length === 0) return [];
      const values = await redis.mget(scopes.map((scope) => spendKey(scope, scope.period, now)));
      return values.map((value) => Number(value ?? 0));
    },
  };
}
