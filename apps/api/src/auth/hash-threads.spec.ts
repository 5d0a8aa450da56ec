import { readdirSync, readFileSync } from 'node:fs';
import { Algorithm, verify } from '@node-rs/argon2';
import { HASH_THREAD_NICENESS, HashThreads } from './hash-threads';

const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 1024, timeCost: 2, parallelism: 1 };

/** Niceness of every thread of this process (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNiceness(): Map<number, number> {
  return new Map(
    readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name, which sits in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [Number(tid), Number(fields[16])];
    }),
  );
}

describe('HashThreads', () => {
  const threads = new HashThreads(2);
  afterAll(() => threads.stop());

  it('hashes and verifies Argon2id off the main thread, as the library does', async () => {
    const hash = await threads.hash('correct horse', OPTIONS);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$/);
    expect(await verify(hash, 'correct horse')).toBe(true);
    expect(await threads.verify(hash, 'correct horse')).toBe(true);
    expect(await threads.verify(hash, 'wrong horse')).toBe(false);
    await expect(threads.verify('not a hash', 'correct horse')).rejects.toThrow();
    // A failed job leaves the thread working.
    expect(await threads.verify(hash, 'correct horse')).toBe(true);
  });

  (process.platform === 'linux' ? it : it.skip)(
    'runs its threads at a low priority, and nothing else',
    async () => {
      // Both threads busy at once: both started.
      await Promise.all([threads.hash('a', OPTIONS), threads.hash('b', OPTIONS)]);
      const niceness = threadNiceness();
      expect([...niceness.values()].filter((nice) => nice === HASH_THREAD_NICENESS)).toHaveLength(
        2,
      );
      // The main thread, the event loop, keeps its priority.
      expect(niceness.get(process.pid)).not.toBe(HASH_THREAD_NICENESS);
    },
  );
});
