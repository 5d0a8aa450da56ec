/** Development signing key: the default outside production, refused in production. */
export const DEVELOPMENT_JWT_SECRET = 'rescind-development-secret-do-not-use-in-production';

/**
 * Every secret and key this repository ships (the development default, the placeholders of old
 * compose files, the keys of the test suites): public, so never acceptable in production however
 * long or varied they look.
 */
export const KNOWN_SECRETS: ReadonlySet<string> = new Set([
  DEVELOPMENT_JWT_SECRET,
  'change-me-in-production-please-32bytes',
  'rescind-e2e-secret-of-at-least-32-bytes!',
  'some-other-secret-of-at-least-32-bytes',
  'e2e-logging-admin-key-0123456789',
  'e2e-admin-key-0123456789',
  'e2e-fan-out-admin-key',
  'e2e-admin-key',
  'textbook-secret',
]);

/** Shortest secret or key accepted in production: 256 bits, an HS256 key's full strength. */
export const MIN_SECRET_BYTES = 32;

/**
 * Least estimated entropy of a production secret, in bits. The estimate (see
 * {@link estimatedEntropyBits}) only catches secrets made of few distinct characters; it sits
 * below what 24 random bytes in base64url (32 characters) ever score, so that no random key of
 * the minimum length is refused by chance.
 */
export const MIN_SECRET_ENTROPY_BITS = 96;

/**
 * Length times the Shannon entropy of the secret's character frequencies: an upper bound of the
 * entropy of its characters taken one by one. It cannot see dictionary words, which is why
 * {@link KNOWN_SECRETS} exists; it does catch `xxxx…` and `abab…`.
 */
export function estimatedEntropyBits(secret: string): number {
  const characters = [...secret];
  const counts = new Map<string, number>();
  for (const character of characters) counts.set(character, (counts.get(character) ?? 0) + 1);
  let bitsPerCharacter = 0;
  for (const count of counts.values()) {
    const p = count / characters.length;
    bitsPerCharacter -= p * Math.log2(p);
  }
  return bitsPerCharacter * characters.length;
}

/** Whether `secret` is a shorter string repeated (`0123…f0123…f`), which the estimate misses. */
function isRepetition(secret: string): boolean {
  return secret.length > 1 && (secret + secret).indexOf(secret, 1) < secret.length;
}

/**
 * Why `secret` is too weak for production, or `undefined` when it is strong enough: none of the
 * {@link KNOWN_SECRETS}, at least {@link MIN_SECRET_BYTES} bytes, not a repetition, and at least
 * {@link MIN_SECRET_ENTROPY_BITS} estimated bits. The reason (`must …`, to follow the variable's
 * name) never quotes the secret.
 */
export function secretWeakness(secret: string): string | undefined {
  if (KNOWN_SECRETS.has(secret)) return 'must not be a value published in this repository';
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    return `must be at least ${MIN_SECRET_BYTES} bytes`;
  }
  if (isRepetition(secret) || estimatedEntropyBits(secret) < MIN_SECRET_ENTROPY_BITS) {
    return 'must be random (e.g. openssl rand -base64 32), not a repetition of a few characters';
  }
  return undefined;
}
