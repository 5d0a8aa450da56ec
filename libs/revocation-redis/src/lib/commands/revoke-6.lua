--[[
  Records a revocation atomically (includes/recordRevocation.lua does the work): record with TTL,
  index entry, log entry, sequence number, and the fan-out message. A no-op (returns nil) when the
  token has already expired or the revocation is already covered (same `jti`, same `sid` with an
  expiry at least as late, or a user cut-off at least as late).

  Every field name comes from the event codec (event-codec.ts), so that this script and the
  readers never disagree on one (docs/design.md, "Event wire format").

  KEYS and ARGV: exactly the standard block of includes/recordRevocation.lua.
  Returns: {epoch, seq, log id, id of the entry it follows}
]]
--- @include "includes/recordRevocation"
local k, r = readRevocationArguments(KEYS, 1, ARGV, 1)
return recordRevocation(k, r)
