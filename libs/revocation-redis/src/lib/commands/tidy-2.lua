--[[
  One bounded batch of tidying: drops index entries of expired revocations, and trims the log up
  to its oldest entry that is still live. Idempotent; call until it reports no more work.
  Records need no work: each expires with its own TTL.

  KEYS: index, log
  ARGV: [1] nowMs, [2] batch size, [3] name of the expiry field (event codec),
        [4] name of the one field of an entry written in the first wire format (a JSON object
        whose expiry has the same name)
  Returns: {index entries removed, log entries trimmed, 1 if more work remains}
]]
local batch = tonumber(ARGV[2])
local now = tonumber(ARGV[1])
local members = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, batch)
if #members > 0 then redis.call('ZREM', KEYS[1], unpack(members)) end

-- The expiry of a log entry, nil when it has none readable (garbage: nothing to keep it for).
local function expiryOf(fields)
  local legacy = nil
  for i = 1, #fields, 2 do
    if fields[i] == ARGV[3] then return tonumber(fields[i + 1]) end
    if fields[i] == ARGV[4] then legacy = fields[i + 1] end
  end
  if legacy == nil then return nil end
  local ok, body = pcall(cjson.decode, legacy)
  if ok and type(body) == 'table' then return tonumber(body[ARGV[3]]) end
  return nil
end

local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', batch)
local minid = nil
local blocked = false
for _, entry in ipairs(entries) do
  local exp = expiryOf(entry[2])
  if exp ~= nil and exp > now then
    minid = entry[1]
    blocked = true
    break
  end
end
if minid == nil and #entries > 0 then
  local ms, sq = string.match(entries[#entries][1], '^(%d+)-(%d+)$')
  minid = ms .. '-' .. string.format('%d', tonumber(sq) + 1)
end
local trimmed = 0
if minid ~= nil then trimmed = redis.call('XTRIM', KEYS[2], 'MINID', minid) end
local more = 0
if #members == batch or (not blocked and #entries == batch) then more = 1 end
return {#members, trimmed, more}
