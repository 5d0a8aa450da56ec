import { type CheckedClaims, type Seconds } from '@rescind/revocation-core';

/** The verified claims of an access token, attached to the request by the guard. */
export interface AccessTokenClaims extends CheckedClaims {
  readonly sub: string;
  readonly jti: string;
  /** Issued-at as signed (seconds, fractional to the millisecond). */
  readonly iat: Seconds;
  readonly exp: Seconds;
  /** Every other claim of the token, e.g. `username`. */
  readonly [claim: string]: unknown;
}

/** A request that went through the guard. */
export interface RequestWithClaims {
  rescind?: AccessTokenClaims;
}
