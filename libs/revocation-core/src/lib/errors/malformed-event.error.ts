import { RescindError } from './rescind.error';

/** A revocation event that failed validation; it is counted and dropped, never applied. */
export class MalformedEventError extends RescindError {
  constructor(reason: string) {
    super('ERR_EVENT_MALFORMED', `Malformed revocation event: ${reason}`);
  }
}
