/** Longest `jti` or `sub` Rescind accepts. */
export const MAX_ID_LENGTH = 256;

const ID_PATTERN = /^[\x21-\x7e]+$/;

/** Whether a `jti` or `sub` is usable as a revocation id: 1–256 printable ASCII, no spaces. */
export function isRevocationId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_ID_LENGTH &&
    ID_PATTERN.test(value)
  );
}
