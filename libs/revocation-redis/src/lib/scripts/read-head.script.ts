import { LuaScript } from '../lua-script';

/**
 * Reads the log's head atomically with the epoch and the store-wide not-before. A store without
 * an epoch is a new data set (a first start, or a store that lost its data: the two look the
 * same from inside), so it gets one with a not-before that revokes every token issued before it
 * (docs/revocation-model.md, "Store loss").
 *
 * KEYS: seq, epoch, log, not-before
 * ARGV: new epoch, not-before of a new epoch (ms)
 * Returns: {epoch, seq, last log id, not-before}
 */
export const readHeadScript = new LuaScript(
  'read-head',
  4,
  `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[2], epoch)
  redis.call('SET', KEYS[4], ARGV[2])
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
return {epoch, seq, id, redis.call('GET', KEYS[4]) or '0'}
`,
);
