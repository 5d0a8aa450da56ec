-- The last id ever generated in the stream at `key` ('0-0' when there is none). Trimming does not
-- change it, unlike the id of the last entry (XREVRANGE would lose it once the worker trimmed the
-- whole log).
local function lastGeneratedId(key)
  if redis.call('EXISTS', key) == 0 then return '0-0' end
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return '0-0'
end
