import { LuaScript } from '../lua-script';

/**
 * Records a revocation atomically: record with TTL, index entry, log entry, sequence number,
 * and the fan-out message. A no-op (returns nil) when the token has already expired or the
 * revocation is already covered (same `jti`, or a user cut-off at least as late).
 *
 * KEYS: record, index, log, seq, epoch, not-before
 * ARGV: kind, member, record JSON, expiresAtMs, nowMs, cutoffMs, new epoch, channel,
 *       event fields (JSON object body without braces), channel as a JSON string,
 *       not-before of a new epoch (see the read-head script)
 * Returns: {epoch, seq, log id, id of the entry it follows}
 */
export const revokeScript = new LuaScript(
  'revoke',
  6,
  `
-- Whole milliseconds, rounded up: PX refuses fractions, and the record must outlive the token.
local ttl = math.ceil(tonumber(ARGV[4]) - tonumber(ARGV[5]))
if ttl <= 0 then return false end
local prev = redis.call('GET', KEYS[1])
if prev then
  if ARGV[1] == 'token' then return false end
  local ok, rec = pcall(cjson.decode, prev)
  if ok and type(rec) == 'table' and tonumber(rec['cutoffMs']) ~= nil
      and tonumber(rec['cutoffMs']) >= tonumber(ARGV[6]) then
    return false
  end
end
local epoch = redis.call('GET', KEYS[5])
if not epoch then
  epoch = ARGV[7]
  redis.call('SET', KEYS[5], epoch)
  redis.call('SET', KEYS[6], ARGV[11])
end
if prev then
  -- A later cut-off never shortens what the earlier one still covered.
  local left = redis.call('PTTL', KEYS[1])
  if left > ttl then ttl = left end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
redis.call('ZADD', KEYS[2], 'GT', ARGV[4], ARGV[2])
local seq = redis.call('INCR', KEYS[4])
-- The id this entry follows: the last one ever generated, which trimming does not change.
local after = '0-0'
if redis.call('EXISTS', KEYS[3]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[3])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then after = info[i + 1] end
  end
end
local head = '{"v":1,"epoch":"' .. epoch .. '","seq":' .. seq .. ',"prevLogId":"' .. after .. '"'
local id = redis.call('XADD', KEYS[3], '*', 'e', head .. ',' .. ARGV[9] .. '}')
local event = head .. ',"logId":"' .. id .. '",' .. ARGV[9] .. '}'
redis.call('PUBLISH', ARGV[8], '{"pattern":' .. ARGV[10] .. ',"data":' .. event .. '}')
return {epoch, seq, id, after}
`,
);
