/** Injection token of the resolved {@link ResolvedRevocationOptions}. */
export const REVOCATION_OPTIONS = Symbol('REVOCATION_OPTIONS');
/** Injection token of the ioredis command client the module owns. */
export const REVOCATION_REDIS = Symbol('REVOCATION_REDIS');
/** Metadata key set by `@Public()`. */
export const IS_PUBLIC = 'rescind:public';
/**
 * Injection token of the `Clock` every revocation decision reads (the `clock` option, by default
 * the system clock): one clock per application, so that one request never reads two.
 */
export const REVOCATION_CLOCK = Symbol('REVOCATION_CLOCK');
