import { setTimeout as sleep } from 'node:timers/promises';
import {
  type OperationSubject,
  type RecordedAnswer,
  type RecordingClient,
} from './recording-client';
import { type OperationPlanner, type PlannedOperation } from './operation-planner';
import { type KnownSession, type KnownToken, type KnownUser, type Population } from './population';

/**
 * One client: runs its planner's operations one after the other until stopped, and keeps the
 * shared population up to date with what the answers say.
 */
export class ClientLane {
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly lane: number,
    private readonly planner: OperationPlanner,
    private readonly client: RecordingClient,
    private readonly population: Population,
  ) {}

  /** Starts the loop. */
  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Lets the operation in flight finish, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const { operation, thinkMs } = this.planner.next();
      await this.perform(operation);
      // The think time is part of the seeded schedule, not a wait for anything.
      await sleep(thinkMs);
    }
  }

  private async perform(operation: PlannedOperation): Promise<void> {
    const { lane, client, population } = this;
    switch (operation.kind) {
      case 'register': {
        const { user, replica } = operation;
        const answer = await client.register(lane, replica, user.username, user.password);
        // 409: another lane registered it again first.
        if (answer.entry.status === 201 || answer.entry.status === 409) {
          user.registered = true;
          await this.login(replica, user);
        }
        return;
      }
      case 'login':
        return this.login(operation.replica, operation.user);
      case 'read': {
        const answer = await client.read(
          lane,
          operation.replica,
          operation.token.token,
          subjectOf(operation.token),
        );
        if (answer.entry.status === 401) population.revoke(operation.token);
        return;
      }
      case 'refresh':
        await this.refresh(operation.replica, operation.session, 'refresh');
        return;
      case 'refresh-reuse': {
        const { session, probe } = operation;
        // The token to probe, taken before the reuse ends the session.
        const token = population.tokenOfSession(session.sid);
        const status = await this.refresh(operation.replica, session, 'refresh-reuse');
        if (status !== 401 || token === undefined) return;
        await sleep(probe.delayMs);
        await client.read(lane, probe.replica, token.token, { ...subjectOf(token), probe: true });
        return;
      }
      default: {
        const { token, probe } = operation;
        const answer = await this.revoke(operation);
        const status = answer.entry.status;
        if (status >= 400 && status < 500) {
          // The token was refused (revoked meanwhile, or rejected since Redis lost its data).
          population.revoke(token);
          return;
        }
        if (operation.kind === 'logout-all' || operation.kind === 'admin-revoke-sub') {
          if (status >= 200 && status < 300) population.cutOff(token.sub, answer.entry.sentAt);
          else population.revoke(token);
        } else if (operation.kind === 'logout' || operation.kind === 'delete-session') {
          // Both end the token's session: every token of it goes, and its refresh token.
          population.revoke(token);
          if (status >= 200 && status < 300) population.endSession(token.sid);
        } else population.revoke(token);
        // The probe is part of the seeded schedule: it reads the token again on another replica.
        await sleep(probe.delayMs);
        await client.read(lane, probe.replica, token.token, { ...subjectOf(token), probe: true });
      }
    }
  }

  private revoke(operation: PlannedOperation & { token: KnownToken }): Promise<RecordedAnswer> {
    const { lane, client } = this;
    const { token, replica } = operation;
    const subject = subjectOf(token);
    switch (operation.kind) {
      case 'logout':
      case 'logout-all':
        return client.logout(lane, replica, operation.kind, token.token, subject);
      case 'admin-revoke-jti':
        return client.adminRevoke(lane, replica, { jti: token.jti, exp: token.exp }, subject);
      case 'admin-revoke-sub':
        return client.adminRevoke(lane, replica, { sub: token.sub }, subject);
      case 'delete-session':
        return client.deleteSession(lane, replica, token.token, token.sid ?? 'none', subject);
      default:
        return client.oauthRevoke(lane, replica, token.token, subject);
    }
  }

  /**
   * Presents the session's current refresh token (`refresh`) or its latest rotated-out one
   * (`refresh-reuse`); keeps the new pair, or forgets a session that is over.
   * @returns the answer's status
   */
  private async refresh(
    replica: number,
    session: KnownSession,
    kind: 'refresh' | 'refresh-reuse',
  ): Promise<number> {
    const { lane, client, population } = this;
    const presented =
      kind === 'refresh' ? session.refreshToken : (session.rotatedOut.at(-1) as string);
    const { entry, json } = await client.refresh(lane, replica, kind, presented, {
      sub: session.sub,
      sid: session.sid,
    });
    if (entry.status === 401) {
      // Ended (reuse detected: by this call, or by another lane's concurrent refresh), revoked,
      // or lost with the store.
      population.endSession(session.sid);
      return entry.status;
    }
    const pair = json as { access_token?: unknown; refresh_token?: unknown } | undefined;
    if (
      entry.status !== 200 ||
      typeof pair?.access_token !== 'string' ||
      typeof pair.refresh_token !== 'string' ||
      entry.jti === undefined ||
      entry.exp === undefined
    ) {
      return entry.status;
    }
    if (kind === 'refresh') population.rotate(session, pair.refresh_token);
    population.addToken({
      token: pair.access_token,
      jti: entry.jti,
      sub: session.sub,
      exp: entry.exp,
      user: session.user,
      issuedBy: entry.doneAt,
      sid: session.sid,
    });
    return entry.status;
  }

  private async login(replica: number, user: KnownUser): Promise<void> {
    const { entry, json } = await this.client.login(
      this.lane,
      replica,
      user.username,
      user.password,
    );
    if (entry.status === 401) {
      // The account is gone (Redis lost its data): register it again later.
      user.registered = false;
      return;
    }
    const body = json as { access_token?: unknown; refresh_token?: unknown } | undefined;
    const token = body?.access_token;
    if (entry.status !== 200 || typeof token !== 'string') return;
    if (entry.jti === undefined || entry.sub === undefined || entry.exp === undefined) return;
    this.population.addToken({
      token,
      jti: entry.jti,
      sub: entry.sub,
      exp: entry.exp,
      user,
      issuedBy: entry.doneAt,
      ...(entry.sid === undefined ? {} : { sid: entry.sid }),
    });
    if (entry.sid !== undefined && typeof body?.refresh_token === 'string') {
      this.population.addSession({
        sid: entry.sid,
        sub: entry.sub,
        user,
        refreshToken: body.refresh_token,
        rotatedOut: [],
      });
    }
  }
}

function subjectOf(token: KnownToken): OperationSubject {
  return { sub: token.sub, jti: token.jti, ...(token.sid === undefined ? {} : { sid: token.sid }) };
}
