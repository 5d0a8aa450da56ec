import { createHash, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { REDIS_URL, uniquePrefix } from '../testing/store-fixtures';
import { defineLuaCommands, loadLuaCommands } from './redis-commands';
import { RedisKeys } from './redis-keys';
import {
  revokeScriptArguments,
  revokeScriptResult,
  RevocationStore,
  STORE_COMMANDS,
} from './revocation-store';

describe('Lua commands', () => {
  describe("the store's", () => {
    it('are named after their files, with the number of keys the file name gives', () => {
      expect(STORE_COMMANDS.map(({ name, numberOfKeys }) => [name, numberOfKeys])).toEqual([
        ['rescindCreateSession', 5],
        ['rescindDescribeRefresh', 2],
        ['rescindEndSession', 8],
        ['rescindEndUserSessions', 8],
        ['rescindListPage', 1],
        ['rescindListPresence', 1],
        ['rescindListSessions', 3],
        ['rescindPublishPresence', 2],
        ['rescindRaiseNotBefore', 2],
        ['rescindReadHead', 4],
        ['rescindRevoke', 6],
        ['rescindRotateSession', 13],
        ['rescindSaveBridgePosition', 2],
        ['rescindTidy', 2],
        ['rescindTidySessions', 1],
        ['rescindWithdrawPresence', 2],
      ]);
    });

    it('share the last-generated-id lookup, spliced in from one include', () => {
      const withLookup = STORE_COMMANDS.filter(({ lua }) => lua.includes("'XINFO', 'STREAM'"));
      // Every script that records a revocation does, through the recordRevocation include.
      expect(withLookup.map(({ name }) => name)).toEqual([
        'rescindEndSession',
        'rescindEndUserSessions',
        'rescindReadHead',
        'rescindRevoke',
        'rescindRotateSession',
      ]);
      for (const { lua } of withLookup) {
        expect(lua.match(/XINFO/g)).toHaveLength(1);
        expect(lua).toContain('local function lastGeneratedId(key)');
      }
      for (const { lua } of STORE_COMMANDS) expect(lua).not.toContain('@include');
    });
  });

  describe('when loaded from a folder', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'rescind-lua-'));
      mkdirSync(join(dir, 'includes'));
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('splices each include once, also one included through another', () => {
      writeFileSync(join(dir, 'includes', 'a.lua'), '--- @include "includes/c"\nlocal a = 1\n');
      writeFileSync(join(dir, 'includes', 'b.lua'), '--- @include "includes/c.lua"\nlocal b = 2\n');
      writeFileSync(join(dir, 'includes', 'c.lua'), 'local c = 3\n');
      writeFileSync(
        join(dir, 'both-1.lua'),
        '--- @include "includes/a"\n--- @include "includes/b"\nreturn a + b + c\n',
      );
      writeFileSync(join(dir, 'notes.txt'), 'not a command');

      const [command, ...others] = loadLuaCommands(dir, 'x');
      expect(others).toEqual([]);
      expect(command?.name).toBe('xBoth');
      expect(command?.numberOfKeys).toBe(1);
      expect(command?.lua.match(/local c = 3/g)).toHaveLength(1);
      expect(command?.lua.indexOf('local c')).toBeLessThan(command?.lua.indexOf('local a') ?? 0);
    });

    it('refuses an include outside the folder', () => {
      writeFileSync(join(dir, 'bad-0.lua'), '--- @include "../elsewhere"\nreturn 1\n');
      expect(() => loadLuaCommands(dir, 'x')).toThrow(RangeError);
    });
  });

  describe('when run on a real Redis', () => {
    let redis: Redis;
    const key = `${uniquePrefix()}:k`;

    beforeAll(() => {
      redis = new Redis(REDIS_URL);
    });

    afterAll(async () => {
      await redis.del(key);
      await redis.quit();
    });

    it('runs a script Redis has not cached yet, then has it cached', async () => {
      const lua = `-- ${randomUUID()}\nredis.call('SET', KEYS[1], ARGV[1])\nreturn {KEYS[1], ARGV[1]}`;
      const sha = createHash('sha1').update(lua).digest('hex');
      const run = defineLuaCommands(redis, [{ name: 'testEcho', numberOfKeys: 1, lua }]);
      expect(await redis.script('EXISTS', sha)).toEqual([0]);
      expect(await run('testEcho', [key], ['v1'])).toEqual([key, 'v1']);
      expect(await redis.script('EXISTS', sha)).toEqual([1]);
      expect(await run('testEcho', [key], [2])).toEqual([key, '2']);
      expect(await redis.get(key)).toBe('2');
    });

    it('lets a script of its own record a revocation through the include, with its own keys and arguments', async () => {
      // The layout another script relies on (includes/recordRevocation.lua): the standard block's
      // keys first, its own after; its own arguments before the block and after it.
      const dir = mkdtempSync(join(tmpdir(), 'rescind-lua-'));
      try {
        cpSync(join(__dirname, 'commands', 'includes'), join(dir, 'includes'), { recursive: true });
        writeFileSync(
          join(dir, 'markAndRevoke-7.lua'),
          [
            '--- @include "includes/recordRevocation"',
            'local k, r, nextArg = readRevocationArguments(KEYS, 1, ARGV, 2)',
            "redis.call('SET', KEYS[7], ARGV[1] .. ARGV[nextArg])",
            'return recordRevocation(k, r)',
          ].join('\n'),
        );
        const keys = new RedisKeys(uniquePrefix());
        const run = defineLuaCommands(redis, loadLuaCommands(dir, 'test'));
        const now = Date.now();
        const block = revokeScriptArguments(
          keys,
          { kind: 'token', id: 'j1', expiresAtMs: now + 60_000, createdAtMs: now },
          { reason: 'test' },
          now,
          0,
        );
        const mark = `${keys.prefix}:mark`;
        const result = await run(
          'testMarkAndRevoke',
          [...block.keys, mark],
          ['before-', ...block.args, 'after'],
        );
        const event = revokeScriptResult(block, result);
        expect(event).toMatchObject({ kind: 'token', id: 'j1', seq: 1, prevLogId: '0-0' });
        expect(await redis.get(mark)).toBe('before-after');
        const store = new RevocationStore(redis, keys);
        expect(await store.readAfter('0-0', 10)).toEqual([event]);
        // Covered already: nothing is recorded, and the script still does its own part.
        expect(
          revokeScriptResult(
            block,
            await run('testMarkAndRevoke', [...block.keys, mark], ['x', ...block.args, 'y']),
          ),
        ).toBeNull();
        expect(await redis.get(mark)).toBe('xy');
        await redis.del(mark, ...block.keys);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a call with the wrong number of keys, or an unknown command', () => {
      const run = defineLuaCommands(redis, [{ name: 'testOne', numberOfKeys: 1, lua: 'return 1' }]);
      expect(() => run('testOne', [], [])).toThrow(RangeError);
      expect(() => run('testNone', [key], [])).toThrow(RangeError);
    });
  });
});
