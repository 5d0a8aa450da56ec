import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, TestCluster } from '@rescind/testing';

/** The `sh` blocks of the README's "Quick start" that talk to the replicas, in order. */
function walkthrough(): string[] {
  const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
  const start = readme.indexOf('## Quick start');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((match) => match[1] as string)
    .filter((block) => block.includes('localhost:3001'));
}

/**
 * The README's curl walkthrough (README, "Quick start"), run as written against three real
 * replicas: only the ports are those of the test cluster.
 */
describe('the README walkthrough', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'readme' });

  beforeAll(() => cluster.start());
  afterAll(() => cluster.stop());

  it('signs in, refreshes, lists and deletes a session as it says', () => {
    const blocks = walkthrough();
    expect(blocks).toHaveLength(2);
    const script = blocks.join('\n').replace(/localhost:300([1-3])/g, (_all, n: string) => {
      const url = cluster.urls[Number(n) - 1] as string;
      return url.replace(/^http:\/\//, '');
    });
    // Each command's answer on a line of its own, so that the output reads like the comments.
    const output = execFileSync('bash', ['-c', `curl() { command curl "$@"; echo; }\n${script}`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const lines = output.split('\n').filter((line) => line !== '');
    // register, /me 200, logout (no body), /me 401, then the sessions: list, delete (no body), /me 401.
    expect(lines[0]).toMatch(/"username":"alice"/);
    expect(lines[1]).toMatch(/"sub":/);
    expect(lines[2]).toMatch(/ERR_TOKEN_REVOKED/);
    expect(lines[3]).toMatch(/^\{"items":\[\{"sid":"[\w-]{22}".*"current":true/);
    expect(lines[4]).toMatch(/ERR_TOKEN_REVOKED/);
    expect(lines).toHaveLength(5);
  });
});
