import { LuaScript } from '../lua-script';

/**
 * One bounded batch of tidying: drops index entries of expired revocations, and trims the log
 * up to its oldest entry that is still live. Idempotent; call until it reports no more work.
 * Records need no work: each expires with its own TTL.
 *
 * KEYS: index, log
 * ARGV: nowMs, batch size
 * Returns: {index entries removed, log entries trimmed, 1 if more work remains}
 */
export const tidyScript = new LuaScript(
  'tidy',
  2,
  `
local batch = tonumber(ARGV[2])
local now = tonumber(ARGV[1])
local members = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, batch)
if #members > 0 then redis.call('ZREM', KEYS[1], unpack(members)) end
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', batch)
local minid = nil
local blocked = false
for _, entry in ipairs(entries) do
  local exp = tonumber(string.match(entry[2][2] or '', '"expiresAtMs":(%d+)'))
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
`,
);
