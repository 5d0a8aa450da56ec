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
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
return {epoch, seq, id}
`,
);
