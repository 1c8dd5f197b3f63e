/**
 * Lua pieces shared by the leasing scripts (`RedisRateLimiter`'s per-minute starts and
 * `RedisBudget`'s amounts): a counter `S` in a state hash, leased out in slices. Every script is
 * built from them so that both keep the same rules. What a piece needs, the script defines first:
 *
 *   ARGV[1] deadline (server ms; -1 none), ARGV[4] holder, ARGV[5] sequence number (every script)
 *   locals  st (state hash key), slicesKey, seenKey, horizon (ms a slice counts after its end),
 *           windowed (whether slices leave S once past the horizon), limit, wanted, least (the
 *           smallest useful grant), share (room ÷ live, as the counter rounds it), sliceId,
 *           sliceMs, noRoomWait (the wait ms reported when nothing counted can leave),
 *           tolerance (what is left within it of `least` is granted whole: floating-point rounding)
 *
 * State hash fields: s:<slice> amount counted for the slice · q:<holder> last applied sequence
 * number · S total counted.
 */

/**
 * Redis' clock, the deadline (a copy run late takes no effect) and the sequence number (a copy
 * run twice, or an older one run after a newer, takes none either). `tooLate` and `stale` are
 * the script's replies then (Lua expressions; `now` and `last` are defined).
 */
export function prologue(stateKey: string, tooLate: string, stale: string): string {
  return `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = tonumber(ARGV[1])
if deadline >= 0 and now > deadline then return ${tooLate} end
local st = ${stateKey}
local holder = ARGV[4]
local seq = tonumber(ARGV[5])
local last = tonumber(redis.call('HGET', st, 'q:' .. holder) or '0')
if seq <= last then return ${stale} end
redis.call('HSET', st, 'q:' .. holder, seq)
`;
}

/** Slices past the horizon leave the total (when windowed; else only their sum is kept). */
export const EXPIRE_SLICES = `
local old = redis.call('ZRANGEBYSCORE', slicesKey, '-inf', now - horizon)
for _, id in ipairs(old) do
  if windowed then S = S - tonumber(redis.call('HGET', st, 's:' .. id) or '0') end
  redis.call('HDEL', st, 's:' .. id)
end
if #old > 0 then redis.call('ZREMRANGEBYSCORE', slicesKey, '-inf', now - horizon) end
`;

/** Holders gone for 10 minutes are forgotten with their sequence numbers; `live` counts those of the last minute. */
export const SEEN = `
local gone = redis.call('ZRANGEBYSCORE', seenKey, '-inf', now - 600000)
for _, h in ipairs(gone) do redis.call('HDEL', st, 'q:' .. h) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', seenKey, '-inf', now - 600000) end
redis.call('ZADD', seenKey, now, holder)
local live = redis.call('ZCOUNT', seenKey, now - 60000, '+inf')
`;

/**
 * From ARGV[first]: n × (slice id, amount used) given back — a slice only ever shrinks, so a copy
 * run twice is harmless — then m × (slice id, amount, last use) the holder is using that Redis
 * does not know (lost in a failover, or taken while Redis was unreachable): counted again, so the
 * total stays true.
 */
export function returnsAndRestates(first: number): string {
  return `
local i = ${first}
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
n = tonumber(ARGV[i])
i = i + 1
for _ = 1, n do
  local id = ARGV[i]
  local amount = tonumber(ARGV[i + 1])
  local untilMs = tonumber(ARGV[i + 2])
  i = i + 3
  if untilMs > now - horizon and redis.call('HEXISTS', st, 's:' .. id) == 0 then
    redis.call('HSET', st, 's:' .. id, amount)
    redis.call('ZADD', slicesKey, untilMs, id)
    S = S + amount
  end
end
`;
}

/**
 * A new slice of what is left (shared with the other live holders: no more than its fair share,
 * but never less than the least useful grant). It counts from now until the horizon after its
 * end, so no window holds more than the limit however late in the slice it was used. Sets
 * `granted` and, when nothing is granted, `waitMs` (until the first counted slice leaves).
 */
export const GRANT_SLICE = `
local granted = 0
local waitMs = 0
if limit >= 0 and wanted > 0 then
  local room = limit - S
  if live > 1 and room > 0 then
    local fair = math.max(least, share(room, live))
    if wanted > fair then wanted = fair end
  end
  if room >= least - tolerance and least > 0 then granted = math.min(wanted, room) end
  if granted > 0 then
    redis.call('HSET', st, 's:' .. sliceId, granted)
    redis.call('ZADD', slicesKey, now + sliceMs, sliceId)
    S = S + granted
  else
    waitMs = noRoomWait
    if windowed then
      local first = redis.call('ZRANGE', slicesKey, 0, 0, 'WITHSCORES')
      if first[2] then waitMs = tonumber(first[2]) + horizon - now end
    end
  end
end
`;

/** Redis' clock, read on the key's own shard (a cluster's nodes may disagree on the time). */
export const TIME_SCRIPT = "return redis.call('TIME')";

/** Reply statuses shared by the leasing scripts. */
export const STATUS_OK = 1;
/** Run past its deadline: nothing was applied. */
export const STATUS_TOO_LATE = 3;
/** A sequence number already applied: nothing was applied. */
export const STATUS_STALE = 4;
