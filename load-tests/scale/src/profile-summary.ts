import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (written by `--cpu-prof`) this summary reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self and inclusive time (ms) by function over the samples between `fromMs` and `toMs`. */
export function summariseProfile(
  profile: CpuProfile,
  fromMs = 0,
  toMs = Number.POSITIVE_INFINITY,
): { self: Map<string, number>; total: Map<string, number>; sampledMs: number; spanMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const name = (id: number): string => {
    const frame = (byId.get(id) as CpuProfile['nodes'][number]).callFrame;
    const file = frame.url.split('/').slice(-2).join('/');
    return `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${file}:${frame.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let atUs = 0;
  let sampledMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    atUs += profile.timeDeltas[i] ?? 0;
    if (atUs / 1000 < fromMs || atUs / 1000 > toMs) continue;
    // A sample stands for the time until the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    sampledMs += ms;
    const leaf = profile.samples[i] as number;
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const key = name(id);
      if (seen.has(key)) continue; // recursion counts once
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + ms);
    }
  }
  return { self, total, sampledMs, spanMs: atUs / 1000 };
}

function top(map: Map<string, number>, count: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, ms]) => `${ms.toFixed(0).padStart(8)} ms  ${key}`);
}

if (require.main === module) {
  const [file, from, to] = process.argv.slice(2);
  if (file === undefined) {
    console.error(
      'usage: node dist/load-tests/scale/src/profile-summary.js <file.cpuprofile> [fromMs] [toMs]',
    );
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const summary = summariseProfile(
    profile,
    Number(from ?? 0),
    Number(to ?? Number.POSITIVE_INFINITY),
  );
  console.log(
    `${summary.spanMs.toFixed(0)} ms profiled, ${summary.sampledMs.toFixed(0)} ms in the window`,
  );
  console.log(['self time:', ...top(summary.self, 30)].join('\n'));
  console.log(['inclusive time:', ...top(summary.total, 40)].join('\n'));
}
