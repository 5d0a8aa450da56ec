--[[
  The session of a refresh token that would be honoured now: the current token of a live
  session, or one rotated out less than the grace ago (docs/design.md, "Sessions"). For
  introspection (RFC 7662); read-only.

  KEYS: the refresh token's record, the store-wide not-before
  ARGV: [1] nowMs, [2] grace (ms), [3] stem of session keys, [4] stem of user revocation
        records, [5] stem of session revocation records, [6] name of the cut-off in a revocation
        record
  Returns: {sid, sub, createdAtMs, lastUsedAtMs, user agent, address, the token's expiry (ms)},
           or nil when the token would not be honoured
]]
--- @include "includes/sessionState"
local now = tonumber(ARGV[1])
local rt = hashOf(KEYS[1])
if rt['sid'] == nil or (tonumber(rt['exp']) or 0) <= now then return false end
local sid, sub = rt['sid'], rt['sub']
local s = hashOf(ARGV[3] .. sid)
if s['sub'] ~= sub then return false end
if sessionDeath(s, now, ARGV[4] .. sub, ARGV[5] .. sid, KEYS[2], ARGV[6]) ~= nil then
  return false
end
local gen, current = tonumber(rt['gen']), tonumber(s['gen'])
local inGrace = gen == current - 1 and now - tonumber(s['rotated']) < tonumber(ARGV[2])
if gen ~= current and not inGrace then return false end
return {sid, sub, s['created'], s['used'], s['ua'] or '', s['ip'] or '', rt['exp']}
