import { EXPIRE_SLICES, GRANT_SLICE, SEEN, prologue, returnsAndRestates } from "./lease-script";

/**
 * The one script behind every exchange between a `RedisBudget` and Redis (the leasing pieces of
 * `lease-script.ts`, for amounts). KEYS: 1 slices zset (id → last use, server ms), 2 state hash
 * (s:<id> amount · q:<holder> seq · S total counted), 3 seen zset (holder → last exchange).
 * ARGV: 1 deadline (-1 none), 2 limit, 3 window ms (-1 none), 4 holder, 5 seq, 6 amount wanted,
 * 7 least useful amount, 8 new slice id, 9 slice ms, then n × (id, used) to shrink and
 * m × (id, amount, last use) to re-add.
 *
 * Reply: {status (1 ok, 3 too late, 4 stale), granted, wait ms (-1 never), server ms, live, last
 * seq, total}; amounts as strings with every digit of the double (Lua's tostring keeps 14, so the
 * holder's slice would differ from what Redis counts and the difference would be stranded).
 */
export const BUDGET_SCRIPT = `${prologue("KEYS[2]", "{3, '0', 0, now, 0, 0, '0'}", "{4, '0', 0, now, 0, last, '0'}")}
local slicesKey = KEYS[1]
local seenKey = KEYS[3]
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local sliceMs = tonumber(ARGV[9])
local S = tonumber(redis.call('HGET', st, 'S') or '0')
-- Slices out of the window leave the total. Without a window they stay in it; past a minute
-- after their end (no process re-states them then) only their sum is kept.
local windowed = window >= 0
local horizon = window
if window < 0 then horizon = 60000 end
${EXPIRE_SLICES}${SEEN}${returnsAndRestates(10)}
local wanted = tonumber(ARGV[6])
local least = tonumber(ARGV[7])
-- The holder takes a charge that fits within twice this, so what is granted is always usable.
local tolerance = limit * 5e-13
local function share(room, live) return room / live end
local sliceId = ARGV[8]
local noRoomWait = -1
${GRANT_SLICE}if S < 0 then S = 0 end
redis.call('HSET', st, 'S', S)
-- With a window, everything expires once nothing happened for longer than it; without, the
-- budget's state stays until reset().
if window >= 0 then
  for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], window + sliceMs + 660000) end
else
  redis.call('PEXPIRE', KEYS[3], 660000)
end
return {1, string.format('%.17g', granted), waitMs, now, live, seq, string.format('%.17g', S)}
`;

export type BudgetReply = [
  status: number,
  granted: string,
  waitMs: number,
  serverMs: number,
  live: number,
  lastSeq: number,
  total: string,
];
