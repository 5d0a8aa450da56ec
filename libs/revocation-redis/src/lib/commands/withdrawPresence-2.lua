--[[
  Removes one replica's status and its index entry (a clean shutdown).

  KEYS: status key, presence index
  ARGV: [1] instance
  Returns: 1 when there was a status to remove, else 0
]]
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
