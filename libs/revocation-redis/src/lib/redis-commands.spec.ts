import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { REDIS_URL, uniquePrefix } from '../testing/store-fixtures';
import { defineLuaCommands, loadLuaCommands } from './redis-commands';
import { STORE_COMMANDS } from './revocation-store';

describe('Lua commands', () => {
  describe("the store's", () => {
    it('are named after their files, with the number of keys the file name gives', () => {
      expect(STORE_COMMANDS.map(({ name, numberOfKeys }) => [name, numberOfKeys])).toEqual([
        ['rescindListPage', 1],
        ['rescindRaiseNotBefore', 2],
        ['rescindReadHead', 4],
        ['rescindRevoke', 6],
        ['rescindTidy', 2],
      ]);
    });

    it('share the last-generated-id lookup, spliced in from one include', () => {
      const withLookup = STORE_COMMANDS.filter(({ lua }) => lua.includes("'XINFO', 'STREAM'"));
      expect(withLookup.map(({ name }) => name)).toEqual(['rescindReadHead', 'rescindRevoke']);
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

    it('refuses a call with the wrong number of keys, or an unknown command', () => {
      const run = defineLuaCommands(redis, [{ name: 'testOne', numberOfKeys: 1, lua: 'return 1' }]);
      expect(() => run('testOne', [], [])).toThrow(RangeError);
      expect(() => run('testNone', [key], [])).toThrow(RangeError);
    });
  });
});
