--[[
  One page of the index of live revocations, ordered as the sorted set is: by expiry, then by
  member (bytewise). A page continues after a position (expiry, member) rather than after a
  member's rank, so that it continues in the right place even when the worker has meanwhile
  removed that member: a rank lookup of a missing member would send the caller back to the start.

  KEYS: index
  ARGV: [1] nowMs, [2] limit, [3] expiry of the position to continue after ('' for the first
        page), [4] member of that position
  Returns: {member, expiry, member, expiry, ...}
]]
local now = ARGV[1]
local limit = tonumber(ARGV[2])
local start = redis.call('ZCOUNT', KEYS[1], '-inf', now)

-- Whether a <= b bytewise, as the sorted set orders members of one score (Lua's own string
-- comparison follows the locale).
local function notAfter(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a <= #b
end

if ARGV[3] ~= '' then
  -- Members of the position's expiry occupy ranks [lo, hi); find the first after its member.
  local lo = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[3])
  local hi = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[3])
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local member = redis.call('ZRANGE', KEYS[1], mid, mid)[1]
    if notAfter(member, ARGV[4]) then lo = mid + 1 else hi = mid end
  end
  if lo > start then start = lo end
end
return redis.call('ZRANGE', KEYS[1], start, start + limit - 1, 'WITHSCORES')
