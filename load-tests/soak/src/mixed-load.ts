import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LatencyRecorder } from './latency-recorder';

/** Options of {@link MixedLoad}. */
export interface MixedLoadOptions {
  /** Replica base URLs. */
  readonly urls: readonly string[];
  /** Target requests per second of the mix, over all replicas. */
  readonly rate: number;
  /** Lanes (requests in flight at most). */
  readonly concurrency: number;
  /** Other replicas must reject a logged-out token from this long after the logout returned. */
  readonly fanOutBoundMs: number;
}

/** One answer that matters for the verdict, with its timing (`performance.now()` ms). */
export interface NotedAnswer {
  readonly op: 'read' | 'login' | 'logout' | 'probe';
  readonly replica: number;
  readonly status: number;
  readonly sentAtMs: number;
  readonly doneAtMs: number;
}

/** A revoked token accepted when it must not have been. */
export interface Acceptance {
  /** `origin`: by the replica that revoked it (read your revocation); `fan-out`: by another one past the bound; `resurrected`: long after. */
  readonly kind: 'origin' | 'fan-out' | 'resurrected';
  readonly replica: number;
  /** When the accepting request was sent, after the logout returned (ms). */
  readonly sentAfterMs: number;
}

/** What the load did and saw. */
export interface LoadTotals {
  readonly durationMs: number;
  readonly reads: number;
  readonly logins: number;
  readonly logouts: number;
  /** Probes of revoked tokens (not part of the mix). */
  readonly probes: number;
  readonly probesAfterBound: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly all: LatencyRecorder;
  readonly readLatency: LatencyRecorder;
  readonly acceptances: readonly Acceptance[];
  /** Every 5xx and every request left unanswered, to be judged against the fault windows. */
  readonly failures: readonly NotedAnswer[];
  /** 401s for tokens nobody revoked. */
  readonly validRejected: number;
}

const REQUEST_TIMEOUT_MS = 10_000;
const PASSWORD = 'correct horse battery staple';
/** Valid tokens kept for reads; older ones are simply no longer used. */
const POOL_MAX = 2_000;
/** Below this many valid tokens a logout turns into a login. */
const POOL_MIN = 50;
/** Revoked tokens older than this are probed for resurrection (after faults, nothing may come back). */
const RESURRECTION_AGE_MS = 3_000;
const RESURRECTION_PROBE_PAUSE_MS = 100;

interface Timed {
  status: number;
  sentAtMs: number;
  doneAtMs: number;
  body?: { access_token?: string };
}

/**
 * A mixed load held at a steady rate over the replicas: about 95% reads (`GET /me`), 4% logins
 * and 1% logouts. Every logout is probed at once on the replica that made it and, just past the
 * fan-out bound, on every other one; revoked tokens are probed again at random, seconds later,
 * to catch anything a fault brought back.
 */
export class MixedLoad {
  private running = false;
  private lanes: Promise<void>[] = [];
  private readonly pending = new Set<Promise<void>>();
  private startedAtMs = 0;
  private readonly users: string[] = [];
  private readonly pool: string[] = [];
  /** Tokens taken out of the pool to be logged out: a read already in flight may see them rejected. */
  private readonly retired = new Set<string>();
  private readonly revoked: { token: string; returnedAtMs: number }[] = [];
  private readonly statuses: Record<string, number> = {};
  private readonly all = new LatencyRecorder();
  private readonly readLatency = new LatencyRecorder();
  private readonly acceptances: Acceptance[] = [];
  private readonly failures: NotedAnswer[] = [];
  private counts = {
    reads: 0,
    logins: 0,
    logouts: 0,
    probes: 0,
    probesAfterBound: 0,
    validRejected: 0,
  };

  constructor(private readonly options: MixedLoadOptions) {}

  /** Registers `users` accounts and logs each in once, spread over the replicas. */
  async prepare(users = 60): Promise<void> {
    const tag = randomBytes(3).toString('hex');
    for (let i = 0; i < users; i++) {
      const username = `soak_${tag}_${i}`;
      const base = this.url(i);
      const registered = await this.call(base, '/auth/register', 'POST', {
        username,
        password: PASSWORD,
      });
      if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
      const login = await this.call(base, '/auth/login', 'POST', { username, password: PASSWORD });
      const token = login.body?.access_token;
      if (login.status !== 200 || token === undefined)
        throw new Error(`login answered ${login.status}`);
      this.users.push(username);
      this.pool.push(token);
    }
  }

  /** Starts the lanes and the resurrection prober. */
  start(): void {
    this.running = true;
    this.startedAtMs = performance.now();
    this.lanes = [
      ...Array.from({ length: this.options.concurrency }, (_, lane) => this.lane(lane)),
      this.resurrectionProber(),
    ];
  }

  /** Requests of the mix so far. */
  get requests(): number {
    return this.counts.reads + this.counts.logins + this.counts.logouts;
  }

  /** Stops the lanes, waits for the last probes, and reports. */
  async stop(): Promise<LoadTotals> {
    this.running = false;
    await Promise.all(this.lanes);
    await Promise.all([...this.pending]);
    return {
      durationMs: performance.now() - this.startedAtMs,
      ...this.counts,
      statuses: { ...this.statuses },
      all: this.all,
      readLatency: this.readLatency,
      acceptances: [...this.acceptances],
      failures: [...this.failures],
    };
  }

  private url(index: number): string {
    return this.options.urls[index % this.options.urls.length] as string;
  }

  private randomReplica(): number {
    return Math.floor(Math.random() * this.options.urls.length);
  }

  private async lane(lane: number): Promise<void> {
    const periodMs = (this.options.concurrency * 1000) / this.options.rate;
    let nextAt = performance.now() + (lane * periodMs) / this.options.concurrency;
    while (this.running) {
      const now = performance.now();
      if (nextAt > now) await sleep(nextAt - now);
      // Never build up more than a second of debt after a stall.
      nextAt = Math.max(nextAt + periodMs, performance.now() - 1_000);
      if (!this.running) break;
      const dice = Math.random();
      if (dice < 0.95) await this.read();
      else if (dice < 0.99 || this.pool.length < POOL_MIN) await this.login();
      else await this.logout();
    }
  }

  private async read(): Promise<void> {
    const token = this.pool[Math.floor(Math.random() * this.pool.length)] as string;
    const replica = this.randomReplica();
    const answer = await this.me(replica, token);
    this.counts.reads++;
    this.all.push(answer.doneAtMs - answer.sentAtMs);
    this.readLatency.push(answer.doneAtMs - answer.sentAtMs);
    this.note('read', replica, answer);
    if (answer.status === 401 && !this.retired.has(token)) this.counts.validRejected++;
  }

  private async login(): Promise<void> {
    const username = this.users[Math.floor(Math.random() * this.users.length)] as string;
    const replica = this.randomReplica();
    const answer = await this.call(this.url(replica), '/auth/login', 'POST', {
      username,
      password: PASSWORD,
    });
    this.counts.logins++;
    this.all.push(answer.doneAtMs - answer.sentAtMs);
    this.note('login', replica, answer);
    const token = answer.body?.access_token;
    if (answer.status === 200 && token !== undefined) {
      this.pool.push(token);
      if (this.pool.length > POOL_MAX) this.pool.shift();
    }
  }

  private async logout(): Promise<void> {
    const index = Math.floor(Math.random() * this.pool.length);
    const token = this.pool[index] as string;
    this.pool[index] = this.pool[this.pool.length - 1] as string;
    this.pool.pop();
    this.retired.add(token);
    const origin = this.randomReplica();
    const answer = await this.call(this.url(origin), '/auth/logout', 'POST', undefined, token);
    this.counts.logouts++;
    this.all.push(answer.doneAtMs - answer.sentAtMs);
    this.note('logout', origin, answer);
    if (answer.status !== 204) return; // unclear: perhaps recorded, never used again
    const returnedAtMs = answer.doneAtMs;
    this.revoked.push({ token, returnedAtMs });
    this.track(this.probe(origin, token, returnedAtMs, 'origin'));
    const others = this.options.urls
      .map((_, replica) => replica)
      .filter((replica) => replica !== origin);
    this.track(
      (async () => {
        await sleep(this.options.fanOutBoundMs + 10);
        await Promise.all(
          others.map((replica) => this.probe(replica, token, returnedAtMs, 'fan-out')),
        );
      })(),
    );
  }

  /** Presents a revoked token; an acceptance is recorded when the request was sent past the bound. */
  private async probe(
    replica: number,
    token: string,
    returnedAtMs: number,
    kind: Acceptance['kind'],
  ): Promise<void> {
    const answer = await this.me(replica, token);
    this.counts.probes++;
    this.note('probe', replica, answer);
    const sentAfterMs = answer.sentAtMs - returnedAtMs;
    const boundMs =
      kind === 'origin' ? 0 : kind === 'fan-out' ? this.options.fanOutBoundMs : RESURRECTION_AGE_MS;
    if (sentAfterMs < boundMs) return;
    this.counts.probesAfterBound++;
    if (answer.status === 200) this.acceptances.push({ kind, replica, sentAfterMs });
  }

  private async resurrectionProber(): Promise<void> {
    while (this.running) {
      await sleep(RESURRECTION_PROBE_PAUSE_MS);
      const old = this.revoked.filter(
        (entry) => performance.now() - entry.returnedAtMs > RESURRECTION_AGE_MS,
      );
      const entry = old[Math.floor(Math.random() * old.length)];
      if (entry !== undefined)
        await this.probe(this.randomReplica(), entry.token, entry.returnedAtMs, 'resurrected');
    }
  }

  private track(task: Promise<void>): void {
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  private note(op: NotedAnswer['op'], replica: number, answer: Timed): void {
    this.statuses[answer.status] = (this.statuses[answer.status] ?? 0) + 1;
    if (answer.status === 0 || answer.status >= 500) {
      this.failures.push({
        op,
        replica,
        status: answer.status,
        sentAtMs: answer.sentAtMs,
        doneAtMs: answer.doneAtMs,
      });
    }
  }

  private me(replica: number, token: string): Promise<Timed> {
    return this.call(this.url(replica), '/me', 'GET', undefined, token);
  }

  private async call(
    base: string,
    path: string,
    method: 'GET' | 'POST',
    json?: unknown,
    token?: string,
  ): Promise<Timed> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (json !== undefined) headers['content-type'] = 'application/json';
    const sentAtMs = performance.now();
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      let body: Timed['body'];
      if (path === '/auth/login' && response.status === 200)
        body = JSON.parse(text) as Timed['body'];
      return { status: response.status, sentAtMs, doneAtMs: performance.now(), body };
    } catch {
      return { status: 0, sentAtMs, doneAtMs: performance.now() };
    }
  }
}
