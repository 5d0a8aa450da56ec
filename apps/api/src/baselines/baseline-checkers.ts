import { type Type } from '@nestjs/common';
import { type ApiConfig } from '@rescind/config';
import { type RevocationChecker, type RevocationModuleWiring } from '@rescind/revocation-nest';
import { NoRevocationChecker } from './no-revocation.checker';
import { RedisRevocationChecker } from './redis-revocation.checker';

/**
 * The benchmark baselines of `REVOCATION_STRATEGY`, each replacing the library's checker;
 * `local` (the product) replaces nothing.
 */
const BASELINES: Readonly<Record<ApiConfig['strategy'], Type<RevocationChecker> | undefined>> = {
  local: undefined,
  redis: RedisRevocationChecker,
  none: NoRevocationChecker,
};

/**
 * The part of the module wiring that `REVOCATION_STRATEGY` decides: the library's checker, or a
 * baseline overriding it (`RevocationModuleWiring.checker`).
 * @throws Error for `none` in production, which the configuration already refuses: revocation is
 *   never switched off there, whoever builds the module
 */
export function baselineWiring(
  config: Pick<ApiConfig, 'strategy' | 'production'>,
): Pick<RevocationModuleWiring, 'checker'> {
  if (config.strategy === 'none' && config.production) {
    throw new Error('REVOCATION_STRATEGY=none is refused when NODE_ENV=production');
  }
  const checker = BASELINES[config.strategy];
  return checker === undefined ? {} : { checker };
}
