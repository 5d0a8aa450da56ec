--[[
  Starts a session with its first refresh token (docs/design.md, "Sessions").

  KEYS: session, its refresh tokens, the refresh token's record, the user's sessions, the
        sessions by expiry
  ARGV: [1] sid, [2] sub, [3] nowMs, [4] createdAtMs (the first access token's iat, ms rounded
        up), [5] the refresh token's expiry (ms), [6] its digest, [7] user agent, [8] client
        address ('' for none)
  Returns: 1
]]
--- @include "includes/sessionState"
local k = {
  session = KEYS[1], refreshTokens = KEYS[2], refreshToken = KEYS[3], sessionsOf = KEYS[4],
  expiries = KEYS[5],
}
local sid, sub, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('HSET', k.session, 'sub', sub, 'created', ARGV[4], 'used', ARGV[4], 'gen', '0',
  'rotated', '0', 'ua', ARGV[7], 'ip', ARGV[8])
issueRefreshToken(k, sid, sub, '0', ARGV[6], now, tonumber(ARGV[5]), sid .. sub)
return 1
