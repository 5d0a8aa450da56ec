import { type TestCluster } from '@rescind/testing';

/** A Redis deployment started for a spec: a cluster, a sentinel group, … */
export interface Disposable {
  dispose(): Promise<void>;
}

/**
 * Prints the spec's figures under `title`, then stops the apps and disposes of the Redis
 * deployment, the latter even when the apps fail to stop. Either may be unset after a failed
 * start.
 */
export async function tearDown(
  title: string,
  figures: readonly string[],
  apps: TestCluster | undefined,
  redis: Disposable | undefined,
): Promise<void> {
  // The figures are the spec's report, printed like the specs' own output.
  // eslint-disable-next-line no-console
  console.log(`${title} figures:\n  ${figures.join('\n  ')}`);
  try {
    await apps?.stop();
  } finally {
    await redis?.dispose();
  }
}
