--[[
  Writes one replica's status with a TTL and lists the replica in the presence index, scored by
  when the status expires in Redis time, so that replicas' clocks never decide who is listed
  (docs/design.md, "Fleet presence"). Entries whose status expired are dropped on the way.

  KEYS: status key, presence index
  ARGV: [1] instance, [2] status JSON, [3] TTL (ms)
  Returns: 1
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return 1
