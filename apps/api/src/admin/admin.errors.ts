import { RescindError } from '@rescind/revocation-core';

/** No live revocation has the id asked for (answered 404). */
export class RevocationNotFoundError extends RescindError {
  constructor() {
    super('ERR_REVOCATION_NOT_FOUND', 'No live revocation has that id');
  }
}
