import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { type RedisClient } from './redis-topology';

/** A Lua script as ioredis's `defineCommand` takes it. */
export interface LuaCommand {
  /** Name of the method ioredis adds to the client. */
  readonly name: string;
  readonly numberOfKeys: number;
  /** The script with its includes spliced in. */
  readonly lua: string;
}

/** `cmdName-numKeys.lua`: the name a command is registered under and how many keys it takes. */
const COMMAND_FILE = /^([a-z][A-Za-z]*)-(\d+)\.lua$/;
/** `--- @include "includes/name"` on a line of its own. */
const INCLUDE = /^---[ \t]*@include[ \t]+"([^"]+)"[ \t]*$/gm;

/**
 * Reads the script in `file` with its includes spliced in, each at most once (a script
 * that includes two snippets sharing a third gets it once, where it is first included).
 */
function resolveIncludes(dir: string, file: string, seen: Set<string>): string {
  const source = readFileSync(join(dir, file), 'utf8');
  return source.replace(INCLUDE, (_line, include: string) => {
    const target = posix.normalize(`${include.endsWith('.lua') ? include : `${include}.lua`}`);
    if (target.startsWith('..') || posix.isAbsolute(target)) {
      throw new RangeError(`${file}: include "${include}" leaves the commands folder`);
    }
    if (seen.has(target)) return '';
    seen.add(target);
    return resolveIncludes(dir, target, seen).trimEnd();
  });
}

/**
 * Loads every `cmdName-numKeys.lua` of `dir` (not its `includes/`), naming each command
 * `prefix` + `CmdName`. Read once at start-up: the files ship next to the compiled code.
 */
export function loadLuaCommands(dir: string, prefix: string): LuaCommand[] {
  const commands: LuaCommand[] = [];
  for (const file of readdirSync(dir).sort()) {
    const match = COMMAND_FILE.exec(file);
    if (match === null) continue;
    const base = match[1] as string;
    commands.push({
      name: prefix + base.charAt(0).toUpperCase() + base.slice(1),
      numberOfKeys: Number(match[2]),
      lua: resolveIncludes(dir, file, new Set()),
    });
  }
  return commands;
}

/** Arguments of a script: keys first, then ARGV. */
type ScriptArgument = string | number;

/**
 * Registers `commands` on `client` with ioredis's `defineCommand` (EVALSHA, falling back to EVAL
 * when the server has not cached the script; on a cluster, on the node owning the keys) and
 * returns a caller for them. Defining again on the same client is harmless.
 */
export function defineLuaCommands(
  client: RedisClient,
  commands: readonly LuaCommand[],
): (name: string, keys: readonly string[], args: readonly ScriptArgument[]) => Promise<unknown> {
  const byName = new Map(commands.map((command) => [command.name, command]));
  for (const { name, numberOfKeys, lua } of commands) {
    client.defineCommand(name, { numberOfKeys, lua });
  }
  // defineCommand adds methods ioredis's types cannot know of.
  const methods = client as unknown as Record<
    string,
    (...args: ScriptArgument[]) => Promise<unknown>
  >;
  return (name, keys, args) => {
    const command = byName.get(name);
    if (command === undefined) throw new RangeError(`no Lua command ${name}`);
    if (keys.length !== command.numberOfKeys) {
      throw new RangeError(`${name} takes ${command.numberOfKeys} keys, got ${keys.length}`);
    }
    return (methods[name] as (...args: ScriptArgument[]) => Promise<unknown>).call(
      client,
      ...keys,
      ...args,
    );
  };
}
