--[[
  Presents a refresh token (docs/design.md, "Sessions"), atomically:
  - the session's current token: rotated (the session moves to the next generation);
  - a token of the generation just rotated out, less than the grace ago: a fresh sibling of the
    current generation (two tabs refreshing at once are not a theft);
  - any other token of the session (rotated out longer ago, or older): reuse (RFC 9700 §4.14.2):
    the session is marked revoked and its `session` revocation recorded, here, so that no token
    of the session is honoured after this script, on any replica;
  - an unknown or expired token, or one of a session that is no longer live: invalid.
  On rotation and sibling, the new token's record is written and the session slides to its
  expiry.

  KEYS: [1..6] the standard block of includes/recordRevocation.lua for the session's revocation
        (its record, index, log, seq, epoch, not-before), [7] the presented token's record,
        [8] the new token's record, [9] the session, [10] its refresh tokens, [11] the user's
        sessions, [12] the sessions by expiry, [13] the user's revocation record
  ARGV: the standard block, then sid, sub, nowMs, the new token's expiry (ms), its digest, the
        grace (ms), user agent ('' keeps the last), address ('' keeps the last), the name of the
        cut-off in a revocation record
  Returns: {'rotated' | 'sibling', expiry}, {'reused', [epoch, seq, log id, previous log id]}
           (no position when the revocation was already recorded), or {'invalid', why}
]]
--- @include "includes/recordRevocation"
--- @include "includes/sessionState"
local revocationKeys, revocation, a = readRevocationArguments(KEYS, 1, ARGV, 1)
local sid, sub, now = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
local exp, digest, grace = tonumber(ARGV[a + 3]), ARGV[a + 4], tonumber(ARGV[a + 5])
local ua, ip, cutoffName = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
local k = {
  refreshToken = KEYS[8], session = KEYS[9], refreshTokens = KEYS[10], sessionsOf = KEYS[11],
  expiries = KEYS[12],
}

local rt = hashOf(KEYS[7])
if rt['sid'] ~= sid or rt['sub'] ~= sub then return {'invalid', 'unknown'} end
if (tonumber(rt['exp']) or 0) <= now then return {'invalid', 'expired'} end
local s = hashOf(k.session)
if s['sub'] ~= sub then return {'invalid', 'unknown'} end
local death = sessionDeath(s, now, KEYS[13], revocationKeys.record, revocationKeys.notBefore,
  cutoffName)
if death ~= nil then
  if (death == 'revoked' or death == 'cut-off') and s['revoked'] == nil then
    -- Dead by a revocation recorded without the mark, or a cut-off: marked now, so that it stays
    -- dead after that record expires, and tidied at the next run.
    redis.call('HSET', k.session, 'revoked', now)
    redis.call('ZADD', k.expiries, now, sid .. sub)
  end
  return {'invalid', death}
end

local gen, current = tonumber(rt['gen']), tonumber(s['gen'])
local outcome, nextGen
if gen == current then
  outcome, nextGen = 'rotated', current + 1
  redis.call('HSET', k.session, 'gen', nextGen, 'rotated', now)
elseif gen == current - 1 and now - tonumber(s['rotated']) < grace then
  outcome, nextGen = 'sibling', current
else
  redis.call('HSET', k.session, 'revoked', now)
  -- Scored now: the tidy job removes what is left of it at its next run.
  redis.call('ZADD', k.expiries, now, sid .. sub)
  local recorded = recordRevocation(revocationKeys, revocation)
  if not recorded then return {'reused'} end
  return {'reused', recorded[1], recorded[2], recorded[3], recorded[4]}
end

redis.call('HSET', k.session, 'used', now)
if ua ~= '' then redis.call('HSET', k.session, 'ua', ua) end
if ip ~= '' then redis.call('HSET', k.session, 'ip', ip) end
issueRefreshToken(k, sid, sub, nextGen, digest, now, exp, sid .. sub)
return {outcome, tostring(exp)}
