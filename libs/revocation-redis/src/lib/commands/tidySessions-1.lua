--[[
  One bounded batch of tidying sessions (docs/design.md, "Sessions"): every session that expired
  or was ended by now loses its hash, the records of every refresh token issued in it (rotated
  out ones included: kept until now to detect reuse, nothing is left to protect) and its place
  in its user's index. Keys also carry TTLs, so a store without a worker still forgets them;
  this removes them as soon as they are dead, and the index members, which have no TTL of their
  own. Idempotent; call until it reports no more work.

  KEYS: the sessions by expiry
  ARGV: [1] nowMs, [2] batch size, [3] stem of session keys, [4] stem of the sets of a session's
        refresh tokens, [5] stem of refresh token records, [6] stem of users' session indexes
  Returns: {sessions removed, refresh token records removed, 1 if more work remains}
]]
--- @include "includes/sessionState"
local now = tonumber(ARGV[1])
local batch = tonumber(ARGV[2])
local members = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, batch)
local sessions, records = 0, 0
for _, member in ipairs(members) do
  -- A member is the 22-character sid followed by the user's sub.
  local sid, sub = string.sub(member, 1, 22), string.sub(member, 23)
  local session = ARGV[3] .. sid
  local s = hashOf(session)
  local live = s['sub'] ~= nil and s['revoked'] == nil and (tonumber(s['exp']) or 0) > now
  if live then
    -- Refreshed since it was scored (cannot happen while scores only rise, kept for safety).
    redis.call('ZADD', KEYS[1], s['exp'], member)
  else
    local refreshTokens = ARGV[4] .. sid
    local digests = redis.call('ZRANGE', refreshTokens, 0, -1)
    for i = 1, #digests, 500 do
      local chunk = {}
      for j = i, math.min(i + 499, #digests) do chunk[#chunk + 1] = ARGV[5] .. digests[j] end
      records = records + redis.call('DEL', unpack(chunk))
    end
    redis.call('DEL', session, refreshTokens)
    redis.call('ZREM', ARGV[6] .. sub, sid)
    redis.call('ZREM', KEYS[1], member)
    sessions = sessions + 1
  end
end
local more = 0
if #members == batch then more = 1 end
return {sessions, records, more}
