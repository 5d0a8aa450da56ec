--[[
  The status of every replica whose status key has not expired, in the index's order (by
  expiry); expired entries are dropped from the index on the way. A status key lives in the
  index's slot: its name is the stem (from the same prefix) and the instance.

  KEYS: presence index
  ARGV: [1] stem of the status keys
  Returns: {status JSON, ...}
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local statuses = {}
for _, instance in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local status = redis.call('GET', ARGV[1] .. instance)
  if status then statuses[#statuses + 1] = status end
end
return statuses
