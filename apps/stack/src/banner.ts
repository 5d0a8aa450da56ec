import { type RunningStack } from './stack';

/** What the banner says beyond the running stack itself. */
export interface BannerFacts {
  /** The root package's version. */
  readonly version: string;
  /** The admin key the replicas were given, and whether the stack made it up for this run. */
  readonly adminApiKey: { readonly value: string; readonly generated: boolean };
  /** Where the worker serves its metrics (0: nowhere). */
  readonly workerMetricsPort: number;
  /** How often the worker tidies the store. */
  readonly tidyIntervalMs: number;
  /** `REGION`, when set: this region's name. */
  readonly region?: string | undefined;
  /** The names of `PEER_REGIONS`, whose logs the worker's bridge follows. */
  readonly peerRegions?: readonly string[];
}

const LABEL_WIDTH = 15;

function row(label: string, ...values: string[]): string[] {
  return values.map((value, index) =>
    `  ${(index === 0 ? label : '').padEnd(LABEL_WIDTH)}${value}`.trimEnd(),
  );
}

/**
 * The lines `npm start` prints once every replica is ready: each URL once, then where to look
 * next (README, "Quick start").
 */
export function formatBanner(running: RunningStack, facts: BannerFacts): string[] {
  const [first = ''] = running.apiUrls;
  const replicas = running.apiUrls.length;
  const key = facts.adminApiKey.generated
    ? `admin key ${facts.adminApiKey.value} (made up for this run; set ADMIN_API_KEY to choose one)`
    : 'admin key: the ADMIN_API_KEY you set';
  const workerMetrics =
    facts.workerMetricsPort === 0
      ? []
      : [`worker: http://127.0.0.1:${facts.workerMetricsPort}/metrics`];
  const tidySeconds = facts.tidyIntervalMs / 1000;
  const peers = facts.peerRegions ?? [];
  // Names only: a peer's URL may hold its password.
  const region =
    facts.region === undefined
      ? []
      : row(
          'Region',
          peers.length === 0
            ? `${facts.region} (no PEER_REGIONS: nothing replicated)`
            : `${facts.region}; the worker replicates revocations with ${peers.join(', ')}`,
        );
  return [
    `Rescind ${facts.version} is ready: ${replicas} API ${replicas === 1 ? 'replica' : 'replicas'}, the worker and Redis.`,
    '',
    ...row('API replicas', ...running.apiUrls),
    ...row('Console', `${first}/admin/console`, key),
    ...row('API docs', `${first}/docs`),
    ...row('Metrics', `${first}/metrics (each replica)`, ...workerMetrics),
    ...row('Worker', `tidies the store every ${tidySeconds} s`),
    ...region,
    ...row(
      'Redis',
      `${running.redisUrl}${running.privateRedis ? ' (private, removed on exit)' : ''}`,
    ),
    ...row('Read next', 'README.md, docs/design.md'),
    '',
    'Press Ctrl-C to stop.',
  ];
}
