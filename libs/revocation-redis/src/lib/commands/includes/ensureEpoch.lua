-- The epoch at `epochKey`; when there is none this is a new data set (a first start, or a store
-- that lost its data: the two look the same from inside), so it gets `newEpoch` with a not-before
-- that revokes every token issued before it (docs/revocation-model.md, "Store loss").
local function ensureEpoch(epochKey, notBeforeKey, newEpoch, newNotBefore)
  local epoch = redis.call('GET', epochKey)
  if epoch then return epoch end
  redis.call('SET', epochKey, newEpoch)
  redis.call('SET', notBeforeKey, newNotBefore)
  return newEpoch
end
