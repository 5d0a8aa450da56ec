--[[
  A user's live sessions, the latest to expire (the most recently refreshed) first
  (docs/design.md, "Sessions"). Read-only.

  KEYS: the user's sessions, the user's revocation record, the store-wide not-before
  ARGV: [1] nowMs, [2] limit, [3] stem of session keys, [4] stem of session revocation records,
        [5] name of the cut-off in a revocation record
  Returns: {sid, createdAtMs, lastUsedAtMs, user agent, address, expiresAtMs, ...}
]]
--- @include "includes/sessionState"
local now = tonumber(ARGV[1])
local sids = redis.call('ZRANGE', KEYS[1], '+inf', '(' .. ARGV[1], 'BYSCORE', 'REV', 'LIMIT', 0,
  tonumber(ARGV[2]))
local out = {}
for _, sid in ipairs(sids) do
  local s = hashOf(ARGV[3] .. sid)
  if sessionDeath(s, now, KEYS[2], ARGV[4] .. sid, KEYS[3], ARGV[5]) == nil then
    local n = #out
    out[n + 1], out[n + 2], out[n + 3] = sid, s['created'], s['used']
    out[n + 4], out[n + 5], out[n + 6] = s['ua'] or '', s['ip'] or '', s['exp']
  end
end
return out
