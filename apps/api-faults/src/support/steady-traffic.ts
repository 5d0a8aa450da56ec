import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { type ApiClient, claimsOf, type Credentials, newCredentials } from '@rescind/testing';
import { type RevocationAuditor } from './revocation-auditor';

/** Options of {@link SteadyTraffic}. */
export interface SteadyTrafficOptions {
  /** Lanes of valid `GET /me`, each with its own never-revoked user. @default 3 */
  readers?: number;
  /** Pause of a reader lane between two requests (rate control, not a wait). @default 10 */
  readPauseMs?: number;
  /** Lanes that log in and revoke, one after the other. @default 2 */
  revokers?: number;
  /** Pause of a revoker lane between two revocations. @default 20 */
  revokePauseMs?: number;
  /** Every n-th revocation of a lane is a logout-all of two fresh tokens. @default 8 */
  logoutAllEvery?: number;
  /** Lanes presenting revoked tokens, recent ones first, to every replica in turn. @default 3 */
  probers?: number;
  /** Pause of a prober lane between two requests. @default 10 */
  probePauseMs?: number;
  /** The replicas (indices of the auditor's clients) the traffic uses. @default all */
  replicas?: readonly number[];
  /** Where users are registered and readers log in (must be reachable at start). @default the first of `replicas` */
  setupReplica?: number;
}

/** What the traffic did. */
export interface TrafficTotals {
  readonly durationMs: number;
  readonly reads: number;
  readonly probes: number;
  readonly revocations: number;
  readonly logoutAlls: number;
  /** Revocation calls that got no clear answer (503 or none). */
  readonly unclearRevocations: number;
}

/** How many recently revoked tokens the probers cycle through before picking an older one. */
const RECENT_WINDOW = 12;

/**
 * Steady traffic over the replicas while a fault is injected: valid reads, a stream of
 * revocations (login then logout, every few a logout-all), and probes that keep presenting
 * revoked tokens, each revocation being probed on every replica the moment it returns. Every
 * request goes through the auditor. Bounded: each lane pauses between requests.
 */
export class SteadyTraffic {
  private running = false;
  private lanes: Promise<void>[] = [];
  private startedAtMs = 0;
  /** What the lanes did so far (the totals but the duration). */
  private readonly counts = {
    reads: 0,
    probes: 0,
    revocations: 0,
    logoutAlls: 0,
    unclearRevocations: 0,
  };
  private readonly replicas: readonly number[];
  private readonly options: Required<Omit<SteadyTrafficOptions, 'replicas' | 'setupReplica'>>;
  private readonly setupReplica: number;

  constructor(
    private readonly auditor: RevocationAuditor,
    options: SteadyTrafficOptions = {},
  ) {
    this.replicas = options.replicas ?? auditor.clients.map((_, index) => index);
    this.setupReplica = options.setupReplica ?? (this.replicas[0] as number);
    this.options = {
      readers: options.readers ?? 3,
      readPauseMs: options.readPauseMs ?? 10,
      revokers: options.revokers ?? 2,
      revokePauseMs: options.revokePauseMs ?? 20,
      logoutAllEvery: options.logoutAllEvery ?? 8,
      probers: options.probers ?? 3,
      probePauseMs: options.probePauseMs ?? 10,
    };
  }

  /** Registers the users, logs the readers in, then starts every lane. */
  async start(): Promise<void> {
    const setup = this.client(this.setupReplica);
    const readerTokens = await Promise.all(
      Array.from({ length: this.options.readers }, () =>
        setup.registerAndLogin(newCredentials('reader')),
      ),
    );
    const revokerUsers = await Promise.all(
      Array.from({ length: this.options.revokers }, async () => {
        const credentials = newCredentials('revoker');
        await setup.registerAndLogin(credentials);
        return credentials;
      }),
    );
    this.running = true;
    this.startedAtMs = performance.now();
    this.lanes = [
      ...readerTokens.map((token, lane) => this.readLane(token, lane)),
      ...revokerUsers.map((user, lane) => this.revokeLane(user, lane)),
      ...Array.from({ length: this.options.probers }, (_, lane) => this.probeLane(lane)),
    ];
  }

  /** Stops every lane after its current request and reports the totals. */
  async stop(): Promise<TrafficTotals> {
    this.running = false;
    await Promise.all(this.lanes);
    return {
      durationMs: Math.round(performance.now() - this.startedAtMs),
      ...this.counts,
    };
  }

  /** Revocations so far. */
  get revocationCount(): number {
    return this.counts.revocations;
  }

  private client(replica: number): ApiClient {
    return this.auditor.clients[replica] as ApiClient;
  }

  private replicaAt(index: number): number {
    return this.replicas[index % this.replicas.length] as number;
  }

  private async readLane(token: string, lane: number): Promise<void> {
    for (let i = lane; this.running; i++) {
      await this.auditor.present(this.replicaAt(i), token, 'read');
      this.counts.reads++;
      await sleep(this.options.readPauseMs);
    }
  }

  private async probeLane(lane: number): Promise<void> {
    for (let i = lane; this.running; i++) {
      const revoked = this.auditor.revokedTokensInOrder;
      if (revoked.length === 0) {
        await sleep(this.options.probePauseMs);
        continue;
      }
      // Mostly the freshest revocations (where a late fan-out would show), now and then any.
      const recent = i % (RECENT_WINDOW + 1);
      const index =
        recent < RECENT_WINDOW
          ? Math.max(0, revoked.length - 1 - recent)
          : Math.floor(Math.random() * revoked.length);
      await this.auditor.present(this.replicaAt(i), revoked[index] as string, 'probe');
      this.counts.probes++;
      await sleep(this.options.probePauseMs);
    }
  }

  private async revokeLane(user: Credentials, lane: number): Promise<void> {
    // Tokens of this user not known to be revoked; a logout-all revokes them all.
    const outstanding: string[] = [];
    for (let n = 1; this.running; n++) {
      const origin = this.replicaAt(lane + n);
      const everywhere = n % this.options.logoutAllEvery === 0;
      const logins = everywhere
        ? [this.replicaAt(lane + n + 1), this.replicaAt(lane + n + 2)]
        : [this.replicaAt(lane + n + 1)];
      const tokens: string[] = [];
      for (const replica of logins) {
        const token = await this.login(replica, user);
        if (token !== undefined) tokens.push(token);
      }
      if (tokens.length === logins.length) {
        outstanding.push(...tokens);
        // The token works before it is revoked (recorded as a read of a valid token).
        await this.auditor.present(this.replicaAt(lane + n + 2), tokens[0] as string, 'read');
        if (everywhere) await this.logoutAll(origin, outstanding, tokens[0] as string);
        else await this.logout(origin, tokens[0] as string, outstanding);
      } else {
        outstanding.push(...tokens);
      }
      await sleep(this.options.revokePauseMs);
    }
  }

  private async login(replica: number, user: Credentials): Promise<string | undefined> {
    const answer = await this.client(replica).loginAnswer(user);
    this.auditor.record(replica, 'login', 'login', answer);
    if (answer.status === 401) {
      // The accounts live in Redis too: after Redis lost its data, sign up again.
      const registered = await this.client(replica).registerAnswer(user);
      this.auditor.record(replica, 'register', 'login', registered);
    }
    const token = answer.json?.access_token;
    return answer.status === 200 && typeof token === 'string' ? token : undefined;
  }

  private async logout(origin: number, token: string, outstanding: string[]): Promise<void> {
    const answer = await this.client(origin).logoutAnswer(token);
    this.auditor.record(origin, 'logout', 'revoke', answer, token);
    if (answer.status !== 204) {
      // Perhaps recorded before the answer was lost: never use it again as a valid token.
      this.counts.unclearRevocations++;
      this.auditor.mayBeRevoked(token);
      return;
    }
    outstanding.splice(outstanding.indexOf(token), 1);
    this.counts.revocations++;
    this.auditor.revoked({
      via: 'logout',
      tokens: [token],
      origin,
      startedAtMs: answer.sentAtMs,
      returnedAtMs: answer.doneAtMs,
    });
    await this.probeEverywhere(token);
  }

  /** Logs the user out everywhere: every token in `outstanding` (issued before the call) is revoked. */
  private async logoutAll(origin: number, outstanding: string[], presented: string): Promise<void> {
    const answer = await this.client(origin).logoutAllAnswer(presented);
    this.auditor.record(origin, 'logout-all', 'revoke', answer, presented);
    if (answer.status !== 204) {
      // They stay outstanding: the next logout-all that succeeds revokes them for sure.
      this.counts.unclearRevocations++;
      for (const token of outstanding) this.auditor.mayBeRevoked(token);
      return;
    }
    // Only the tokens of the presented token's subject: after Redis lost its data the account
    // was signed up again under a new subject, and tokens of the old one are not this user's.
    const sub = claimsOf(presented)['sub'];
    const tokens = outstanding.filter((token) => claimsOf(token)['sub'] === sub);
    outstanding.splice(0);
    this.counts.revocations++;
    this.counts.logoutAlls++;
    this.auditor.revoked({
      via: 'logout-all',
      tokens,
      origin,
      startedAtMs: answer.sentAtMs,
      returnedAtMs: answer.doneAtMs,
    });
    await this.probeEverywhere(presented);
  }

  /** Presents a token just revoked to every replica at once: the read-your-revocation and fan-out probe. */
  private async probeEverywhere(token: string): Promise<void> {
    await Promise.all(
      this.replicas.map((replica) => this.auditor.present(replica, token, 'probe')),
    );
    this.counts.probes += this.replicas.length;
  }
}
