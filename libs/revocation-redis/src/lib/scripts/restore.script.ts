import { LuaScript } from '../lua-script';

/**
 * Writes a revocation back into a store that lost it, without logging or publishing: replicas
 * already hold it, and new replicas find it when they hydrate. Never shortens what is there.
 *
 * KEYS: record, index
 * ARGV: kind, member, record JSON, expiresAtMs, nowMs, cutoffMs
 */
export const restoreScript = new LuaScript(
  'restore',
  2,
  `
local ttl = tonumber(ARGV[4]) - tonumber(ARGV[5])
if ttl <= 0 then return 0 end
local prev = redis.call('GET', KEYS[1])
local write = not prev
if prev and ARGV[1] == 'user' then
  local ok, rec = pcall(cjson.decode, prev)
  write = not (ok and type(rec) == 'table' and tonumber(rec['cutoffMs']) ~= nil
    and tonumber(rec['cutoffMs']) >= tonumber(ARGV[6]))
end
if write then
  if prev then
    local left = redis.call('PTTL', KEYS[1])
    if left > ttl then ttl = left end
  end
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
end
redis.call('ZADD', KEYS[2], 'GT', ARGV[4], ARGV[2])
return 1
`,
);
