import { type AccessTokenClaims } from './access-token-claims';

/**
 * Decides whether a verified token may pass. Returns `true` synchronously whenever it can (the
 * hot path), a promise only when it must ask the store; throws `TokenRevokedError` or a
 * sync/store error otherwise.
 */
export abstract class RevocationChecker {
  abstract check(claims: AccessTokenClaims): true | Promise<true>;
}
