/** Outcome of checking a token against the local cache. */
export enum RevocationVerdict {
  /** Not revoked, and the cache is complete, so the miss is authoritative. */
  Accepted = 0,
  /** Revoked by its `jti` or by a cut-off of its user. */
  Revoked = 1,
  /**
   * Not in the cache, but entries were evicted: only the store can answer (docs/design.md,
   * "Bounded cache").
   */
  Unknown = 2,
}
