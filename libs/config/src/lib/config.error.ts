import { RescindError } from '@rescind/revocation-core';

/** One or more environment variables are invalid; the message lists every problem. */
export class ConfigError extends RescindError {
  constructor(readonly problems: readonly string[]) {
    super('ERR_CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`);
  }
}
