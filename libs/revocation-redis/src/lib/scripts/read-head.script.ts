import { LuaScript } from '../lua-script';

/**
 * Reads the log's head atomically with the epoch, creating the epoch on first use.
 *
 * KEYS: seq, epoch, log
 * ARGV: new epoch
 * Returns: {epoch, seq, last log id}
 */
export const readHeadScript = new LuaScript(
  'read-head',
  3,
  `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[2], epoch)
end
local seq = redis.call('GET', KEYS[1]) or '0'
-- The last id ever generated, which trimming does not change (XREVRANGE would lose it once
-- the worker trimmed the whole log).
local id = '0-0'
if redis.call('EXISTS', KEYS[3]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[3])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then id = info[i + 1] end
  end
end
return {epoch, seq, id}
`,
);
