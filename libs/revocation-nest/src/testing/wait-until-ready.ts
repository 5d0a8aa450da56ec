import { waitFor } from '@rescind/testing';
import { readiness, type RunningTestApp } from './test-application';

/** Waits until every app reports itself ready (`GET /ready`), one after the other. */
export async function waitUntilReady(
  apps: readonly RunningTestApp[],
  timeoutMs = 5000,
): Promise<void> {
  for (const app of apps) {
    await waitFor(async () => (await readiness(app.url)).ready, {
      timeoutMs,
      description: `the ${app.platform} app to be ready`,
    });
  }
}
