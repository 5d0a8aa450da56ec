--[[
  Records one revocation atomically: record with TTL, index entry, log entry (epoch, seq,
  prevLogId), and the fan-out message (docs/design.md, "Event wire format"). Shared by every
  script that revokes, so that a revocation made on the way (ending a session, say) is written
  exactly like one made by `revoke`.

  How to call it from a script of your own (include "includes/recordRevocation" first):

    local k, r, nextArg = readRevocationArguments(KEYS, 1, ARGV, 1)
    -- your own keys follow at KEYS[7..], your own arguments at ARGV[nextArg..]
    local result = recordRevocation(k, r)

  The TypeScript side builds the standard block with `revokeScriptArguments` (revocation-store.ts),
  which gives 6 keys and a run of arguments; put the 6 keys first in KEYS (append your own after)
  and the arguments anywhere in ARGV (pass their first position as `argFrom`).

  Standard block, keys (from `keyFrom`): record, index, log, seq, epoch, not-before.
  Standard block, arguments (from `argFrom`, offsets from it):
    +0 kind, +1 index member, +2 record JSON, +3 expiresAtMs, +4 nowMs, +5 cutoffMs (0 unless
    `user`), +6 new epoch, +7 channel, +8 not-before of a new epoch (ms), +9 name of the cut-off
    in the record JSON, +10..+13 names of the epoch, seq, prevLogId and logId fields,
    +14 count n of the values that follow, +15..+14+n the revocation's fields, name/value pairs
    (logged and published), +15+n count m of the values that follow, +16+n..+15+n+m fields
    logged after the position but not published (the audit trail of a revocation with an
    origin, for the bridges between regions; docs/design.md, "Several regions").

  `recordRevocation(k, r)` takes explicit tables, so a script may also fill them itself:
    k = {record, index, log, seq, epoch, notBefore}                           (key names)
    r = {kind, member, record, expiresAtMs, nowMs, cutoffMs, newEpoch, channel, newNotBefore,
         cutoffName, epochName, seqName, prevLogIdName, logIdName, fields, logOnly}
                                             (fields, logOnly: lists; logOnly may be nil)
  The record is stored with the epoch and seq it was logged under added (under the names of the
  epoch and seq fields), replacing any the record JSON held.
  Returns {epoch, seq, log id, id of the entry it follows}, or false when there was nothing to
  record: the revocation has already expired, or is already covered (same `jti`; same `sid` with
  an expiry at least as late; a user cut-off at least as late).
]]
--- @include "includes/ensureEpoch"
--- @include "includes/lastGeneratedId"

-- The standard block of keys and arguments, as tables for recordRevocation, and the position of
-- the first argument after it.
local function readRevocationArguments(keys, keyFrom, argv, argFrom)
  local k = {
    record = keys[keyFrom], index = keys[keyFrom + 1], log = keys[keyFrom + 2],
    seq = keys[keyFrom + 3], epoch = keys[keyFrom + 4], notBefore = keys[keyFrom + 5],
  }
  local a = argFrom
  local n = tonumber(argv[a + 14])
  local m = tonumber(argv[a + 15 + n])
  local r = {
    kind = argv[a], member = argv[a + 1], record = argv[a + 2], expiresAtMs = argv[a + 3],
    nowMs = argv[a + 4], cutoffMs = argv[a + 5], newEpoch = argv[a + 6], channel = argv[a + 7],
    newNotBefore = argv[a + 8], cutoffName = argv[a + 9], epochName = argv[a + 10],
    seqName = argv[a + 11], prevLogIdName = argv[a + 12], logIdName = argv[a + 13],
    fields = {unpack(argv, a + 15, a + 14 + n)},
    logOnly = {unpack(argv, a + 16 + n, a + 15 + n + m)},
  }
  return k, r, a + 16 + n + m
end

local function recordRevocation(k, r)
  -- Whole milliseconds, rounded up: PX refuses fractions, and the record must outlive the token.
  local ttl = math.ceil(tonumber(r.expiresAtMs) - tonumber(r.nowMs))
  if ttl <= 0 then return false end
  local prev = redis.call('GET', k.record)
  if prev then
    if r.kind == 'token' then return false end
    if r.kind == 'session' then
      -- Idempotent: a repeat whose expiry is not later than the indexed one is a no-op; a later
      -- one extends it (the index holds the greatest expiry: ZADD GT).
      local held = tonumber(redis.call('ZSCORE', k.index, r.member))
      if held ~= nil and held >= tonumber(r.expiresAtMs) then return false end
    else
      local ok, rec = pcall(cjson.decode, prev)
      if ok and type(rec) == 'table' and tonumber(rec[r.cutoffName]) ~= nil
          and tonumber(rec[r.cutoffName]) >= tonumber(r.cutoffMs) then
        return false
      end
    end
  end
  local epoch = ensureEpoch(k.epoch, k.notBefore, r.newEpoch, r.newNotBefore)
  if prev then
    -- A later cut-off (or expiry) never shortens what the earlier one still covered.
    local left = redis.call('PTTL', k.record)
    if left > ttl then ttl = left end
  end
  local seq = string.format('%d', redis.call('INCR', k.seq))
  -- The record keeps where it was logged, so that one can ask which replicas have applied it
  -- (docs/design.md, "Fleet presence"). Spliced in as text: the record is a JSON object the codec
  -- wrote, and decoding it would reprint its numbers with 14 significant digits.
  local record = string.sub(r.record, 1, -2) .. ',' .. cjson.encode(r.epochName) .. ':'
    .. cjson.encode(epoch) .. ',' .. cjson.encode(r.seqName) .. ':' .. seq .. '}'
  redis.call('SET', k.record, record, 'PX', ttl)
  redis.call('ZADD', k.index, 'GT', r.expiresAtMs, r.member)
  local after = lastGeneratedId(k.log)
  -- Every value is a string: cjson.encode would print numbers with 14 significant digits.
  local fields = {unpack(r.fields)}
  local n = #fields
  fields[n + 1], fields[n + 2] = r.epochName, epoch
  fields[n + 3], fields[n + 4] = r.seqName, seq
  fields[n + 5], fields[n + 6] = r.prevLogIdName, after
  local published = #fields
  for _, value in ipairs(r.logOnly or {}) do fields[#fields + 1] = value end
  local id = redis.call('XADD', k.log, '*', unpack(fields))
  local message = {[r.logIdName] = id}
  for i = 1, published, 2 do message[fields[i]] = fields[i + 1] end
  redis.call('PUBLISH', r.channel, cjson.encode(message))
  return {epoch, tonumber(seq), id, after}
end
