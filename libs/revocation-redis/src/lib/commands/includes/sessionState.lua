-- What the session scripts share (docs/design.md, "Sessions").

-- The fields of the hash at `key` as a table (empty when there is none).
local function hashOf(key)
  local flat = redis.call('HGETALL', key)
  local fields = {}
  for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  return fields
end

-- Gives `key` at least `ttl` ms more to live, never less than it has.
local function extendTtl(key, ttl)
  local left = redis.call('PTTL', key)
  if left < ttl then redis.call('PEXPIRE', key, ttl) end
end

-- Why the session whose hash fields are `s` is not live at `now`, or nil when it is. Besides its
-- own expiry and revoked mark, a session dies with whatever kills the access token it was
-- created with: a cut-off of its user taken at or after its creation (so that logout-all is one
-- commit point, the user's revocation), a `session` revocation recorded without the mark (an
-- administrator naming the sid), and the store-wide not-before. `created` is that token's `iat`
-- in whole milliseconds, rounded up as the verifier rounds it, so the two verdicts agree.
local function sessionDeath(s, now, userRecordKey, sessionRecordKey, notBeforeKey, cutoffName)
  if s['sub'] == nil then return 'unknown' end
  if s['revoked'] ~= nil then return 'revoked' end
  if (tonumber(s['exp']) or 0) <= now then return 'expired' end
  local created = tonumber(s['created']) or 0
  if redis.call('EXISTS', sessionRecordKey) == 1 then return 'revoked' end
  local user = redis.call('GET', userRecordKey)
  if user then
    local ok, rec = pcall(cjson.decode, user)
    if ok and type(rec) == 'table' then
      local cutoff = tonumber(rec[cutoffName])
      if cutoff ~= nil and cutoff >= created then return 'cut-off' end
    end
  end
  if created <= (tonumber(redis.call('GET', notBeforeKey) or '0') or 0) then return 'cut-off' end
  return nil
end

-- Issues the refresh token `digest` of generation `gen` in session `sid` of `sub`, expiring at
-- `exp`, and slides the session (and its user's index) to that expiry.
local function issueRefreshToken(k, sid, sub, gen, digest, now, exp, expiryMember)
  local ttl = math.ceil(exp - now)
  redis.call('HSET', k.refreshToken, 'sid', sid, 'sub', sub, 'gen', gen, 'exp', exp)
  redis.call('PEXPIRE', k.refreshToken, ttl)
  -- Rotated-out digests are kept (reuse is detected by them) until they expire themselves.
  redis.call('ZREMRANGEBYSCORE', k.refreshTokens, '-inf', now)
  redis.call('ZADD', k.refreshTokens, exp, digest)
  extendTtl(k.refreshTokens, ttl)
  -- Never shortened: a replica whose clock is behind may issue a sibling expiring earlier.
  if exp > (tonumber(redis.call('HGET', k.session, 'exp')) or 0) then
    redis.call('HSET', k.session, 'exp', exp)
  end
  extendTtl(k.session, ttl)
  redis.call('ZADD', k.sessionsOf, 'GT', exp, sid)
  extendTtl(k.sessionsOf, ttl)
  redis.call('ZADD', k.expiries, 'GT', exp, expiryMember)
end
