--[[
  Records a revocation atomically: record with TTL, index entry, log entry, sequence number, and
  the fan-out message. A no-op (returns nil) when the token has already expired or the
  revocation is already covered (same `jti`, or a user cut-off at least as late).

  Every field name comes from the event codec (event-codec.ts), so that this script and the
  readers never disagree on one (docs/design.md, "Event wire format").

  KEYS: record, index, log, seq, epoch, not-before
  ARGV: [1] kind, [2] index member, [3] record JSON, [4] expiresAtMs, [5] nowMs, [6] cutoffMs,
        [7] new epoch, [8] channel, [9] not-before of a new epoch (ms),
        [10] name of the cut-off in the record JSON,
        [11..14] names of the epoch, seq, prevLogId and logId fields,
        [15..] the revocation's fields, name/value pairs
  Returns: {epoch, seq, log id, id of the entry it follows}
]]
--- @include "includes/ensureEpoch"
--- @include "includes/lastGeneratedId"
-- Whole milliseconds, rounded up: PX refuses fractions, and the record must outlive the token.
local ttl = math.ceil(tonumber(ARGV[4]) - tonumber(ARGV[5]))
if ttl <= 0 then return false end
local prev = redis.call('GET', KEYS[1])
if prev then
  if ARGV[1] == 'token' then return false end
  local ok, rec = pcall(cjson.decode, prev)
  if ok and type(rec) == 'table' and tonumber(rec[ARGV[10]]) ~= nil
      and tonumber(rec[ARGV[10]]) >= tonumber(ARGV[6]) then
    return false
  end
end
local epoch = ensureEpoch(KEYS[5], KEYS[6], ARGV[7], ARGV[9])
if prev then
  -- A later cut-off never shortens what the earlier one still covered.
  local left = redis.call('PTTL', KEYS[1])
  if left > ttl then ttl = left end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
redis.call('ZADD', KEYS[2], 'GT', ARGV[4], ARGV[2])
local seq = string.format('%d', redis.call('INCR', KEYS[4]))
local after = lastGeneratedId(KEYS[3])
-- Every value is a string: cjson.encode would print numbers with 14 significant digits.
local fields = {unpack(ARGV, 15)}
local n = #fields
fields[n + 1], fields[n + 2] = ARGV[11], epoch
fields[n + 3], fields[n + 4] = ARGV[12], seq
fields[n + 5], fields[n + 6] = ARGV[13], after
local id = redis.call('XADD', KEYS[3], '*', unpack(fields))
local message = {[ARGV[14]] = id}
for i = 1, #fields, 2 do message[fields[i]] = fields[i + 1] end
redis.call('PUBLISH', ARGV[8], cjson.encode(message))
return {epoch, tonumber(seq), id, after}
