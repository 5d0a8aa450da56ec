import { type Milliseconds } from './units';

/** The parts of a verified token that decide whether it is revoked. */
export interface CheckedClaims {
  /** The token's `jti`. */
  readonly jti: string;
  /** The token's `sub`. */
  readonly sub: string;
  /** The token's session (`sid`); absent from tokens issued without one. */
  readonly sid?: string;
  /** The token's `iat`, in milliseconds (RFC 7519 allows a fractional NumericDate). */
  readonly iatMs: Milliseconds;
}
