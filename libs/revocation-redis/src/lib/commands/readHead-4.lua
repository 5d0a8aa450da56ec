--[[
  Reads the log's head atomically with the epoch and the store-wide not-before, creating the
  data set (epoch and not-before) when the store has none.

  KEYS: seq, epoch, log, not-before
  ARGV: new epoch, not-before of a new epoch (ms)
  Returns: {epoch, seq, last generated log id, not-before}
]]
--- @include "includes/ensureEpoch"
--- @include "includes/lastGeneratedId"
local epoch = ensureEpoch(KEYS[2], KEYS[4], ARGV[1], ARGV[2])
local seq = redis.call('GET', KEYS[1]) or '0'
return {epoch, seq, lastGeneratedId(KEYS[3]), redis.call('GET', KEYS[4]) or '0'}
