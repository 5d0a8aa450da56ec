/** Every fault the nemesis injects, as named in histories and reports. */
export const FAULT_KINDS = [
  'pause-replica',
  'kill-replica',
  'kill-worker',
  'redis-kill',
  'redis-wipe',
  'pubsub-kill',
  'output-buffer-cut',
  'partition-reset',
  'partition-blackhole',
] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What each fault does, for usage texts and reports. */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  'pause-replica': 'SIGSTOP one replica for 0.5-7 s, then SIGCONT',
  'kill-replica': 'SIGKILL one replica, restart it 0.2-3 s later',
  'kill-worker': 'SIGKILL the worker, restart it 0.2-3 s later',
  'redis-kill': 'SIGKILL redis-server, restart it from its AOF (appendfsync always) 0.1-2 s later',
  'redis-wipe': 'SIGKILL redis-server, empty its data directory, restart it empty 0.1-2 s later',
  'pubsub-kill': 'CLIENT KILL TYPE pubsub, 1-3 times 0-400 ms apart',
  'output-buffer-cut':
    'client-output-buffer-limit "pubsub 1kb 512b 1", one replica paused (and its proxy held) while revocations flood the channel until Redis drops its subscription, then the limit restored and the replica resumed',
  'partition-reset':
    "one replica's proxy to Redis resets every connection for 0.5-7 s, then forwards again",
  'partition-blackhole':
    "one replica's proxy to Redis holds every byte for 0.5-7 s (connections stay open), then forwards again",
};

/** Whether a fault acts on one chosen replica (the others are not touched). */
export function targetsOneReplica(kind: FaultKind): boolean {
  return (
    kind === 'pause-replica' ||
    kind === 'kill-replica' ||
    kind === 'output-buffer-cut' ||
    kind === 'partition-reset' ||
    kind === 'partition-blackhole'
  );
}

/** Parses a comma-separated list of fault kinds; throws naming the unknown ones. */
export function parseFaultKinds(text: string): FaultKind[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(FAULT_KINDS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `unknown fault kinds: ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`,
    );
  }
  return names as FaultKind[];
}
