--[[
  Ends every session of a user (docs/design.md, "Sessions"), atomically: records the user's
  cut-off exactly as a logout-all does, and marks each of the user's sessions revoked. The
  cut-off is the commit point: a session created up to it, even one this script does not see,
  is refused by every later refresh because its creation is not after the cut-off.

  KEYS: [1..6] the standard block of includes/recordRevocation.lua for the user's revocation,
        [7] the user's sessions, [8] the sessions by expiry
  ARGV: the standard block, then sub, nowMs, the stem of session keys
  Returns: {sessions marked, [epoch, seq, log id, previous log id]} (no position when the store
           already held a cut-off at least as late)
]]
--- @include "includes/recordRevocation"
local revocationKeys, revocation, a = readRevocationArguments(KEYS, 1, ARGV, 1)
local sub, now, sessionStem = ARGV[a], ARGV[a + 1], ARGV[a + 2]
local recorded = recordRevocation(revocationKeys, revocation)
local marked = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do
  local session = sessionStem .. sid
  if redis.call('HGET', session, 'sub') == sub and redis.call('HEXISTS', session, 'revoked') == 0 then
    redis.call('HSET', session, 'revoked', now)
    redis.call('ZADD', KEYS[8], now, sid .. sub)
    marked = marked + 1
  end
end
if not recorded then return {marked} end
return {marked, recorded[1], recorded[2], recorded[3], recorded[4]}
