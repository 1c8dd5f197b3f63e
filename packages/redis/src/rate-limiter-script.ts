import { EXPIRE_SLICES, GRANT_SLICE, SEEN, prologue, returnsAndRestates } from "./lease-script";

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
export const LEASE_SCRIPT = `${prologue("KEYS[3]", "{3, 0, 0, 0, now, 0, 0, 0, 0}", "{4, 0, 0, 0, now, 0, 0, last, 0}")}
local slicesKey = KEYS[1]
local seenKey = KEYS[4]
local horizon = 60000
local windowed = true
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
${EXPIRE_SLICES}${SEEN}redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
redis.call('ZREM', KEYS[5], holder)
local othersWaiting = redis.call('ZCARD', KEYS[5])
${returnsAndRestates(14)}
-- Concurrency: the holder states how many slots it wants in all and how many it is using. It is
-- entitled to what it wants from what is free (while others wait, no more than its fair share);
-- Redis counts what it uses even beyond that (calls started while Redis did not answer), so that
-- nobody else is let in until they end.
local entitled = 0
local recorded = 0
local slotsWanted = tonumber(ARGV[6])
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
  entitled = math.min(slotsWanted, cap)
  if entitled < 0 then entitled = 0 end
  if entitled < slotsWanted then short = true end
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

-- Per minute: a new slice of whole starts (ARGV[8] wanted, ARGV[9] its id).
local limit = maxRpm
local wanted = tonumber(ARGV[8])
local least = 1
local tolerance = 0
local function share(room, live) return math.ceil(room / live) end
local sliceId = ARGV[9]
local noRoomWait = sliceMs
${GRANT_SLICE}if limit >= 0 and wanted > 0 and granted == 0 then short = true end
if short and ARGV[12] == '1' then redis.call('ZADD', KEYS[5], now + tonumber(ARGV[13]), holder) end

if S < 0 then S = 0 end
if C < 0 then C = 0 end
redis.call('HSET', st, 'S', S, 'C', C)
for k = 1, 5 do redis.call('PEXPIRE', KEYS[k], 660000) end
return {1, granted, entitled, waitMs, now, live, othersWaiting, seq, recorded}
`;

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
