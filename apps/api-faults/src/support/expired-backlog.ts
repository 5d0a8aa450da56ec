import { type RedisServer } from '@rescind/testing';

// A script per chunk: a few hundred thousand entries take a second or two, and no single call
// blocks Redis (or outlasts a command timeout) on a busy machine.
const SEED_SCRIPT = `
local from = tonumber(ARGV[4])
local n = tonumber(ARGV[1])
local exp = ARGV[2]
local epoch = ARGV[3]
redis.call('SET', KEYS[4], epoch)
for i = from, n do
  local id = 'seed-' .. i
  redis.call('ZADD', KEYS[1], exp, 't:' .. id)
  redis.call('XADD', KEYS[2], '*', 'e', '{"v":1,"epoch":"' .. epoch .. '","seq":' .. i ..
    ',"kind":"token","id":"' .. id .. '","expiresAtMs":' .. exp .. ',"createdAtMs":' .. exp .. '}')
end
redis.call('SET', KEYS[3], n)
return n
`;

const SEED_CHUNK = 10_000;

/**
 * Fills an empty store with `count` revocations of tokens that have already expired (index
 * entries and log entries in the product's format, sequence numbers 1..count), as a store looks
 * after the worker has been down for a while. Their records have expired on their own.
 */
export async function seedExpiredBacklog(
  redis: RedisServer,
  prefix: string,
  count: number,
): Promise<void> {
  const key = (name: string): string => `${prefix}:rev:${name}`;
  const expiredAtMs = Date.now() - 60_000;
  const epoch = `seeded-${Date.now()}`;
  for (let from = 1; from <= count; from += SEED_CHUNK) {
    await redis.command(
      'EVAL',
      SEED_SCRIPT,
      '4',
      key('index'),
      key('log'),
      key('seq'),
      key('epoch'),
      String(Math.min(count, from + SEED_CHUNK - 1)),
      String(expiredAtMs),
      epoch,
      String(from),
    );
  }
}
