import {
  type RevocationStore,
  type SessionStore,
  type SessionTidyResult,
  type TidyResult,
} from '@rescind/revocation-redis';

/** Totals of one tidy job. */
export interface TidyTotals {
  indexRemoved: number;
  logTrimmed: number;
  batches: number;
  /** Sessions that expired or ended, removed (docs/design.md, "Sessions"). */
  sessionsRemoved: number;
  /** Records of their refresh tokens, removed with them. */
  refreshTokensRemoved: number;
}

/**
 * Reconciles expirations: removes index entries and log entries of revocations whose tokens
 * have expired, in bounded batches so that Redis never blocks for long. Idempotent, so a job
 * retried after a crash simply finds less to do.
 */
export class TidyProcessor {
  constructor(
    private readonly store: RevocationStore,
    private readonly batchSize = 500,
    private readonly maxBatches = 1000,
    /** What expired and ended sessions left behind is removed too, when given. */
    private readonly sessions?: SessionStore,
  ) {}

  async run(): Promise<TidyTotals> {
    const totals: TidyTotals = {
      indexRemoved: 0,
      logTrimmed: 0,
      batches: 0,
      sessionsRemoved: 0,
      refreshTokensRemoved: 0,
    };
    let result: TidyResult;
    do {
      result = await this.store.tidy(this.batchSize);
      totals.indexRemoved += result.indexRemoved;
      totals.logTrimmed += result.logTrimmed;
      totals.batches++;
    } while (result.more && totals.batches < this.maxBatches);
    if (this.sessions === undefined) return totals;
    let sessions: SessionTidyResult;
    let batches = 0;
    do {
      sessions = await this.sessions.tidy(this.batchSize);
      totals.sessionsRemoved += sessions.sessionsRemoved;
      totals.refreshTokensRemoved += sessions.refreshTokensRemoved;
      totals.batches++;
    } while (sessions.more && ++batches < this.maxBatches);
    return totals;
  }
}
