/**
 * The one script behind every exchange between a `RedisRateLimiter` and Redis. Five keys, all in
 * one Redis Cluster hash slot (`<prefix>{<key>}:…`):
 *   KEYS[1] starts  zset  slice id → the last server ms its starts may be used (a slice counts
 *                          against the per-minute limit until 60 s after that)
 *   KEYS[2] leases  zset  holder → expiry (server ms) of the concurrency slots it holds
 *   KEYS[3] state   hash  s:<slice> starts in the slice · c:<holder> slots held · q:<holder> last
 *                          applied sequence number · S total starts counted · C total slots held
 *   KEYS[4] seen    zset  holder → when it last talked to Redis (live processes, for shares)
 *   KEYS[5] wait    zset  holder → until when it is waiting for slots (others then give back)
 *
 * ARGV: 1 deadline (server ms; -1 none: a late run takes no effect), 2 max per minute (-1 none),
 * 3 max concurrent (-1 none), 4 holder, 5 sequence number, 6 slots wanted (absolute), 7 slots in
 * use (never taken back), 8 starts wanted (a new slice), 9 new slice id, 10 slice ms, 11 lease
 * ttl ms, 12 waiting (1; 0 not; 2 a restore, kept whole), 13 wait ttl ms, then n and n × (slice id, starts used) to shrink
 * returned slices, then m and m × (slice id, starts, last use) to re-add slices Redis lost.
 *
 * Reply: {status (1 ok, 3 too late, 4 stale), starts granted, slots it may use, wait ms, server
 * ms, live holders, others waiting, last sequence number, slots counted for it}.
 */
export const LEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = tonumber(ARGV[1])
if deadline >= 0 and now > deadline then return {3, 0, 0, 0, now, 0, 0, 0, 0} end
local st = KEYS[3]
local holder = ARGV[4]
local seq = tonumber(ARGV[5])
local last = tonumber(redis.call('HGET', st, 'q:' .. holder) or '0')
if seq <= last then return {4, 0, 0, 0, now, 0, 0, last, 0} end
redis.call('HSET', st, 'q:' .. holder, seq)
local maxRpm = tonumber(ARGV[2])
local maxConc = tonumber(ARGV[3])
local sliceMs = tonumber(ARGV[10])
local ttl = tonumber(ARGV[11])
local S = tonumber(redis.call('HGET', st, 'S') or '0')
local C = tonumber(redis.call('HGET', st, 'C') or '0')

-- Holders whose heartbeat stopped (a crashed process): their slots come back.
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, h in ipairs(dead) do
  C = C - tonumber(redis.call('HGET', st, 'c:' .. h) or '0')
  redis.call('HDEL', st, 'c:' .. h)
end
if #dead > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
-- Slices whose starts are out of the 60 s window.
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
for _, id in ipairs(old) do
  S = S - tonumber(redis.call('HGET', st, 's:' .. id) or '0')
  redis.call('HDEL', st, 's:' .. id)
end
if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000) end
-- Processes gone for 10 minutes: forget them and their sequence numbers.
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - 600000)
for _, h in ipairs(gone) do redis.call('HDEL', st, 'q:' .. h) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 600000) end
redis.call('ZADD', KEYS[4], now, holder)
local live = redis.call('ZCOUNT', KEYS[4], now - 60000, '+inf')
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
redis.call('ZREM', KEYS[5], holder)
local othersWaiting = redis.call('ZCARD', KEYS[5])

-- Unused starts given back: a slice only ever shrinks (a copy of this command run twice is harmless).
local i = 14
local n = tonumber(ARGV[i])
i = i + 1
for _ = 1, n do
  local id = ARGV[i]
  local used = tonumber(ARGV[i + 1])
  i = i + 2
  local cur = tonumber(redis.call('HGET', st, 's:' .. id) or '-1')
  if cur > used then
    redis.call('HSET', st, 's:' .. id, used)
    S = S - (cur - used)
  end
end
-- Slices this holder is using that Redis does not know (lost in a failover, or taken while Redis
-- was unreachable): counted again, so the window stays true.
n = tonumber(ARGV[i])
i = i + 1
for _ = 1, n do
  local id = ARGV[i]
  local count = tonumber(ARGV[i + 1])
  local untilMs = tonumber(ARGV[i + 2])
  i = i + 3
  if untilMs > now - 60000 and redis.call('HEXISTS', st, 's:' .. id) == 0 then
    redis.call('HSET', st, 's:' .. id, count)
    redis.call('ZADD', KEYS[1], untilMs, id)
    S = S + count
  end
end

-- Concurrency: the holder states how many slots it wants in all and how many it is using. It is
-- entitled to what it wants from what is free (while others wait, no more than its fair share);
-- Redis counts what it uses even beyond that (calls started while Redis did not answer), so that
-- nobody else is let in until they end.
local entitled = 0
local recorded = 0
local wanted = tonumber(ARGV[6])
local inUse = tonumber(ARGV[7])
local short = false
if maxConc >= 0 then
  local mine = tonumber(redis.call('HGET', st, 'c:' .. holder) or '0')
  local others = C - mine
  local cap = maxConc - others
  if othersWaiting > 0 and ARGV[12] ~= '2' then
    local holders = redis.call('ZCARD', KEYS[2])
    if mine == 0 then holders = holders + 1 end
    local share = math.max(1, math.floor(maxConc / (holders + othersWaiting)))
    if cap > share then cap = share end
  end
  entitled = math.min(wanted, cap)
  if entitled < 0 then entitled = 0 end
  if entitled < wanted then short = true end
  recorded = math.max(entitled, inUse)
  C = others + recorded
  if recorded > 0 then
    redis.call('HSET', st, 'c:' .. holder, recorded)
    redis.call('ZADD', KEYS[2], now + ttl, holder)
  else
    redis.call('HDEL', st, 'c:' .. holder)
    redis.call('ZREM', KEYS[2], holder)
  end
end

-- Per minute: a new slice of starts, from what the window has left (shared with other live
-- processes). Its starts count from now until 60 s after the slice's last use, so every window
-- of 60 s holds at most maxRpm starts however late in the slice they were used.
local granted = 0
local waitMs = 0
local startsWanted = tonumber(ARGV[8])
if maxRpm >= 0 and startsWanted > 0 then
  local room = maxRpm - S
  if live > 1 and room > 0 then
    local fair = math.max(1, math.ceil(room / live))
    if startsWanted > fair then startsWanted = fair end
  end
  granted = math.min(startsWanted, room)
  if granted < 0 then granted = 0 end
  if granted > 0 then
    redis.call('HSET', st, 's:' .. ARGV[9], granted)
    redis.call('ZADD', KEYS[1], now + sliceMs, ARGV[9])
    S = S + granted
  else
    short = true
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    if first[2] then waitMs = tonumber(first[2]) + 60000 - now else waitMs = sliceMs end
  end
end
if short and ARGV[12] == '1' then redis.call('ZADD', KEYS[5], now + tonumber(ARGV[13]), holder) end

if S < 0 then S = 0 end
if C < 0 then C = 0 end
redis.call('HSET', st, 'S', S, 'C', C)
for k = 1, 5 do redis.call('PEXPIRE', KEYS[k], 660000) end
return {1, granted, entitled, waitMs, now, live, othersWaiting, seq, recorded}
`;

/** Redis' clock, read on the limiter's own shard (a cluster's nodes may disagree on the time). */
export const TIME_SCRIPT = "return redis.call('TIME')";

export type LeaseReply = [
  status: number,
  granted: number,
  entitled: number,
  waitMs: number,
  serverMs: number,
  live: number,
  othersWaiting: number,
  lastSeq: number,
  recorded: number,
];

export const STATUS_OK = 1;
export const STATUS_TOO_LATE = 3;
export const STATUS_STALE = 4;
