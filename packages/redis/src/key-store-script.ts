/**
 * The scripts behind `RedisKeyStore`: every admission and settlement of a virtual key is one
 * script, so that rpm, tpm and the budget hold exactly across every gateway process sharing Redis.
 * Three keys per virtual key, in one Redis Cluster hash slot (`<prefix>key:{<id>}:…`):
 *   KEYS[1] window  zset  hold id → admitted at (server ms), the last 60 s (kept only with rpm or tpm)
 *   KEYS[2] gate    hash  T tokens counted in the window · t:<hold> its tokens · h:<hold> "amount|period"
 *                         of a budget hold · H:<period> held · s:<period> spent · n:<period> settled
 *                         requests (money in integer nano-USD) · m mean cost of a request
 *   KEYS[3] holds   zset  hold id → when it lapses (a process that died holding it)
 */

/**
 * ARGV: 1 hold id, 2 rpm (-1 none), 3 tpm (-1 none), 4 tokens, 5 budget nano-USD (-1 none),
 * 6 period, 7 hold nano-USD (at least the key's mean cost; -1: that mean), 8 hold ttl ms.
 * Reply: {status (1 ok, 2 rpm, 3 tpm, 4 budget), retry-after ms, used (requests, tokens or spent), held, hold (asked for, when refused)}.
 */
export const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local g = KEYS[2]
local id = ARGV[1]
-- The same admission run twice (a resend after a reconnect) counts once.
if redis.call('ZSCORE', KEYS[1], id) or redis.call('HEXISTS', g, 'h:' .. id) == 1 then return {1, 0, 0, 0, 0} end
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, h in ipairs(lapsed) do
  local v = redis.call('HGET', g, 'h:' .. h)
  if v then
    local sep = string.find(v, '|', 1, true)
    redis.call('HINCRBY', g, 'H:' .. string.sub(v, sep + 1), -tonumber(string.sub(v, 1, sep - 1)))
    redis.call('HDEL', g, 'h:' .. h)
  end
end
if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now) end
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local windowed = rpm >= 0 or tpm >= 0
local T = 0
if windowed then
  T = tonumber(redis.call('HGET', g, 'T') or '0')
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
  for _, h in ipairs(old) do
    T = T - tonumber(redis.call('HGET', g, 't:' .. h) or '0')
    redis.call('HDEL', g, 't:' .. h)
  end
  if #old > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
    if T < 0 then T = 0 end
    redis.call('HSET', g, 'T', T)
  end
  if rpm >= 0 then
    local count = redis.call('ZCARD', KEYS[1])
    if count + 1 > rpm then
      local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
      local wait = 1000
      if first[2] then wait = tonumber(first[2]) + 60000 - now end
      return {2, wait, count, 0, 0}
    end
  end
  if tpm >= 0 and T + tokens > tpm then
    local excess = T + tokens - tpm
    local wait = 60000
    local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
    for k = 1, #entries, 2 do
      excess = excess - tonumber(redis.call('HGET', g, 't:' .. entries[k]) or '0')
      if excess <= 0 then
        wait = tonumber(entries[k + 1]) + 60000 - now
        break
      end
    end
    return {3, wait, T, 0, 0}
  end
end
local budget = tonumber(ARGV[5])
local hold = 0
if budget >= 0 then
  local period = ARGV[6]
  local spent = tonumber(redis.call('HGET', g, 's:' .. period) or '0')
  local held = tonumber(redis.call('HGET', g, 'H:' .. period) or '0')
  -- The estimate, or the key's mean cost when that is more (an estimate that leaves out the answer).
  hold = tonumber(ARGV[7])
  local mean = tonumber(redis.call('HGET', g, 'm') or '0')
  if hold < mean then hold = mean end
  -- Admitted when what is left, beyond what calls in flight hold, covers this call's hold.
  if spent + held >= budget or spent + held + hold > budget then return {4, 0, spent, held, hold} end
  if hold > 0 then
    redis.call('HINCRBY', g, 'H:' .. period, hold)
    redis.call('HSET', g, 'h:' .. id, hold .. '|' .. period)
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[8]), id)
    redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[8]) + 60000)
  end
end
if windowed then
  redis.call('ZADD', KEYS[1], now, id)
  if tokens > 0 then
    redis.call('HSET', g, 't:' .. id, tokens)
    redis.call('HSET', g, 'T', T + tokens)
  end
  redis.call('PEXPIRE', KEYS[1], 120000)
end
return {1, 0, 0, 0, hold}
`;

/**
 * ARGV: 1 hold id, 2 period, 3 cost nano-USD, 4 real tokens (-1 unknown).
 * Releases the hold, charges the cost to the period, moves the mean, counts the real tokens.
 */
export const SETTLE_SCRIPT = `
local g = KEYS[2]
local id = ARGV[1]
local v = redis.call('HGET', g, 'h:' .. id)
if v then
  local sep = string.find(v, '|', 1, true)
  redis.call('HINCRBY', g, 'H:' .. string.sub(v, sep + 1), -tonumber(string.sub(v, 1, sep - 1)))
  redis.call('HDEL', g, 'h:' .. id)
  redis.call('ZREM', KEYS[3], id)
end
local cost = tonumber(ARGV[3])
redis.call('HINCRBY', g, 's:' .. ARGV[2], cost)
redis.call('HINCRBY', g, 'n:' .. ARGV[2], 1)
local m = redis.call('HGET', g, 'm')
if m then m = math.floor(tonumber(m) * 0.8 + cost * 0.2 + 0.5) else m = cost end
redis.call('HSET', g, 'm', m)
local tokens = tonumber(ARGV[4])
if tokens >= 0 then
  local cur = redis.call('HGET', g, 't:' .. id)
  if cur then
    redis.call('HSET', g, 't:' .. id, tokens)
    redis.call('HINCRBY', g, 'T', tokens - tonumber(cur))
  end
end
return 1
`;

/** KEYS[1] by-hash index, KEYS[2] records, KEYS[3] revoked; ARGV 1 hash. {record JSON, revoked at or ""}, or nil. */
export const FIND_SCRIPT = `
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
local raw = redis.call('HGET', KEYS[2], id)
if not raw then return false end
return {raw, redis.call('HGET', KEYS[3], id) or ''}
`;

/** KEYS[1] by-hash index, KEYS[2] records; ARGV 1 hash, 2 id, 3 record JSON. 0 when the hash or id is taken. */
export const CREATE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`;

/** KEYS[1] records, KEYS[2] revoked; ARGV 1 id, 2 revoked at. {record JSON, revoked at}, or nil for no such key. */
export const REVOKE_SCRIPT = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
return {raw, redis.call('HGET', KEYS[2], ARGV[1])}
`;
