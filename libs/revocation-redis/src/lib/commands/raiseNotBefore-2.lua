--[[
  Raises the store-wide not-before, never lowering it; creates the epoch first when the store has
  none (the not-before given is then later than any a new epoch would get).

  KEYS: epoch, not-before
  ARGV: new epoch, not-before (ms)
  Returns: the not-before now in force
]]
if not redis.call('GET', KEYS[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
local current = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if tonumber(ARGV[2]) > current then
  redis.call('SET', KEYS[2], ARGV[2])
  return ARGV[2]
end
return tostring(current)
