import { RescindError } from './rescind.error';

/** This replica cannot confirm it is in sync and `FAIL_MODE=closed` forbids guessing. */
export class NotInSyncError extends RescindError {
  constructor() {
    super('ERR_NOT_IN_SYNC', 'Revocation state is not confirmed; try again shortly');
  }
}

/** The store (Redis) could not take or answer a request. */
export class StoreUnavailableError extends RescindError {
  constructor(cause?: unknown) {
    super('ERR_STORE_UNAVAILABLE', 'The revocation store is unavailable; try again shortly', {
      cause,
    });
  }
}
