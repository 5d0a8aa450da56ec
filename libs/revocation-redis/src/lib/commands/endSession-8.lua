--[[
  Ends one session (docs/design.md, "Sessions"), atomically: marks it revoked and records its
  `session` revocation, so that its refresh tokens and its access tokens die together. Given a
  user, only that user's live session is ended and nothing is recorded otherwise; given none (an
  administrator), the revocation is recorded whatever the store knows of the session, as a `jti`
  an administrator names is.

  KEYS: [1..6] the standard block of includes/recordRevocation.lua for the session's revocation,
        [7] the session, [8] the sessions by expiry
  ARGV: the standard block, then sid, sub ('' for any), nowMs, the stem of user revocation
        records, the name of the cut-off in a revocation record
  Returns: {1 if a live session was ended else 0, [epoch, seq, log id, previous log id]} (no
           position when nothing was recorded)
]]
--- @include "includes/recordRevocation"
--- @include "includes/sessionState"
local revocationKeys, revocation, a = readRevocationArguments(KEYS, 1, ARGV, 1)
local sid, wanted, now = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
local userRecordStem, cutoffName = ARGV[a + 3], ARGV[a + 4]

local s = hashOf(KEYS[7])
local owned = s['sub'] ~= nil and (wanted == '' or s['sub'] == wanted)
local live = owned and sessionDeath(s, now, userRecordStem .. s['sub'], revocationKeys.record,
  revocationKeys.notBefore, cutoffName) == nil
if wanted ~= '' and not live then return {0} end
if owned and s['revoked'] == nil then
  redis.call('HSET', KEYS[7], 'revoked', now)
  redis.call('ZADD', KEYS[8], now, sid .. s['sub'])
end
local ended = 0
if live then ended = 1 end
local recorded = recordRevocation(revocationKeys, revocation)
if not recorded then return {ended} end
return {ended, recorded[1], recorded[2], recorded[3], recorded[4]}
