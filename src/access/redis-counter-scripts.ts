/**
 * The access counters' Lua scripts: admission (versions, budgets with reservations, rpm/tpm
 * windows, all or nothing) and settlement (release, correct, spend; idempotent per batch).
 * Windows are counters that expire 60 s after their first request (PEXPIRE), so Redis's own
 * clock times them and instances need no synchronised clocks. A window's generation key holds
 * the id of the call that opened it: a correction applies only to the window its reservation
 * was taken in.
 *
 * A reservation lives per scope: a hash (call id → "nano:tokens:counts tokens (1/0):generation"), a sorted set of
 * expiry times (so reservations of calls that never settle, their instance gone, are released
 * by later admissions) and the sum of what is held, which admission adds to the spend.
 */

/**
 * KEYS: versions hash, then per scope: requests window, tokens window, tokens generation, spend
 * bucket of the scope's period, reservations hash, reservation expiries, reservations sum.
 * ARGV: tokens, window ms, count (1/0), deadline (Redis ms, 0 none), call id, reserve nano,
 * reservation ttl ms, then per scope: version field, version, rpm (0 none), tpm (0 none),
 * budget nano (-1 none).
 * Answers: outcome (0 admitted, 1 stale, 2 budget, 3 rpm, 4 tpm, 5 late), scope (1-based; for
 * an admission the largest budget use in millionths), spent + held, then per scope: requests,
 * requests reset ms, tokens, tokens reset ms.
 */
export const ADMIT = `
local n = (#KEYS - 1) / 7
local tokens = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local count = ARGV[3] == '1'
local deadline = tonumber(ARGV[4])
local call = ARGV[5]
local reserve = tonumber(ARGV[6])
local hold = tonumber(ARGV[7])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if deadline > 0 and now > deadline then return {5, 0, 0} end
for i = 1, n do
  local a = 7 + (i - 1) * 5
  if redis.call('HGET', KEYS[1], ARGV[a + 1]) ~= ARGV[a + 2] then return {1, i, 0} end
end
local use = 0
for i = 1, n do
  local a = 7 + (i - 1) * 5
  local k = 1 + (i - 1) * 7
  local budget = tonumber(ARGV[a + 5])
  if count and (budget >= 0 or tonumber(ARGV[a + 4]) > 0) then
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[k + 6], '-inf', now, 'LIMIT', 0, 32)) do
      local v = redis.call('HGET', KEYS[k + 5], id)
      if v then
        local nano = tonumber(string.match(v, '^(%-?%d+)'))
        if nano > 0 then redis.call('DECRBY', KEYS[k + 7], nano) end
        redis.call('HDEL', KEYS[k + 5], id)
      end
      redis.call('ZREM', KEYS[k + 6], id)
    end
  end
  if count and budget >= 0 then
    local spent = tonumber(redis.call('GET', KEYS[k + 4]) or '0') + tonumber(redis.call('GET', KEYS[k + 7]) or '0')
    if spent >= budget or spent + reserve > budget then return {2, i, spent} end
    local share = math.floor((spent + reserve) * 1000000 / math.max(budget, 1))
    if share > use then use = share end
  end
end
local out = {0, use, 0}
local function ttl(key)
  local left = redis.call('PTTL', key)
  if left < 0 then return window end
  return left
end
for i = 1, n do
  local a = 7 + (i - 1) * 5
  local k = 1 + (i - 1) * 7
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
  local a = 7 + (i - 1) * 5
  local k = 1 + (i - 1) * 7
  local o = 3 + (i - 1) * 4
  local budget, tpm = tonumber(ARGV[a + 5]), tonumber(ARGV[a + 4])
  if tonumber(ARGV[a + 3]) > 0 then
    out[o + 1] = redis.call('INCR', KEYS[k + 1])
    if redis.call('PTTL', KEYS[k + 1]) < 0 then redis.call('PEXPIRE', KEYS[k + 1], window) end
    out[o + 2] = ttl(KEYS[k + 1])
  end
  local generation = ''
  if tpm > 0 then
    if tokens > 0 then
      out[o + 3] = redis.call('INCRBY', KEYS[k + 2], tokens)
      if redis.call('PTTL', KEYS[k + 2]) < 0 then
        redis.call('PEXPIRE', KEYS[k + 2], window)
        redis.call('SET', KEYS[k + 3], call, 'PX', window)
      end
      out[o + 4] = ttl(KEYS[k + 2])
    end
    generation = redis.call('GET', KEYS[k + 3]) or ''
  end
  local held = 0
  if budget >= 0 then held = reserve end
  if held > 0 or tpm > 0 then
    redis.call('HSET', KEYS[k + 5], call, held .. ':' .. (tpm > 0 and tokens or 0) .. ':' .. (tpm > 0 and 1 or 0) .. ':' .. generation)
    redis.call('ZADD', KEYS[k + 6], now + hold, call)
    if held > 0 then redis.call('INCRBY', KEYS[k + 7], held) end
  end
end
return out
`;

/**
 * KEYS: the batch's dedupe key, then per call and scope: reservations hash, reservation
 * expiries, reservations sum, tokens window, tokens generation, spend buckets day, week, month,
 * total (of the call's start time).
 * ARGV: dedupe ttl s, ttl s of day, week, month buckets, window ms, then per call and scope:
 * call id, real tokens, cost nano.
 * Answers: per call and scope, spend of day, week, month, total after it; `{-1}` for a batch
 * already settled.
 */
export const SETTLE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return {-1} end
local ttls = {tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), 0}
local window = tonumber(ARGV[5])
local out = {}
local n = (#KEYS - 1) / 9
for j = 1, n do
  local k = 1 + (j - 1) * 9
  local a = 5 + (j - 1) * 3
  local call, tokens, cost = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local reserved, generation, counts = 0, '', false
  local v = redis.call('HGET', KEYS[k + 1], call)
  if v then
    local nano, rtok, flag, gen = string.match(v, '^(%-?%d+):(%-?%d+):(%d):(.*)$')
    reserved, generation, counts = tonumber(rtok), gen, flag == '1'
    redis.call('HDEL', KEYS[k + 1], call)
    redis.call('ZREM', KEYS[k + 2], call)
    if tonumber(nano) > 0 then redis.call('DECRBY', KEYS[k + 3], nano) end
  end
  local delta = tokens - reserved
  if delta < 0 and generation ~= '' and redis.call('GET', KEYS[k + 5]) == generation then
    -- Gives back what the call reserved and did not use, in the window it reserved in only.
    if redis.call('INCRBY', KEYS[k + 4], delta) < 0 then redis.call('SET', KEYS[k + 4], 0, 'KEEPTTL') end
  elseif delta > 0 and counts then
    -- Usage beyond the reservation counts in the window that runs now.
    redis.call('INCRBY', KEYS[k + 4], delta)
    if redis.call('PTTL', KEYS[k + 4]) < 0 then
      redis.call('PEXPIRE', KEYS[k + 4], window)
      redis.call('SET', KEYS[k + 5], call, 'PX', window)
    end
  end
  for p = 1, 4 do
    local key = KEYS[k + 5 + p]
    if cost > 0 then
      local total = redis.call('INCRBY', key, cost)
      if total == cost and ttls[p] > 0 then redis.call('EXPIRE', key, ttls[p]) end
    end
    out[#out + 1] = tonumber(redis.call('GET', key) or '0')
  end
end
return out
`;
