import { RescindError } from './rescind.error';

/** Input from a caller that does not satisfy the API's rules (answered with 400). */
export class InvalidInputError extends RescindError {
  constructor(message: string) {
    super('ERR_INVALID_INPUT', message);
  }
}
