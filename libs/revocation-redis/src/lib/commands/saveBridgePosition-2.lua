--[[
  Saves how far a bridge has applied a peer region's log, only while this store still holds the
  data set the bridge applied it to: a store that lost its data (or got a new epoch) since keeps
  no position, so the bridge re-reads the peer's live set into it (docs/design.md, "Several
  regions").

  KEYS: this store's epoch, the bridge position hash
  ARGV: [1] this store's epoch when the bridge applied, [2] the peer's epoch, [3] seq, [4] log id
  Returns: 1 when saved, 0 when this store's epoch changed
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'localEpoch', ARGV[1], 'epoch', ARGV[2], 'seq', ARGV[3], 'logId', ARGV[4])
return 1
