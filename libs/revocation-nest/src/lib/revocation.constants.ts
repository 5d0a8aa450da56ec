/** Injection token of the resolved {@link ResolvedRevocationOptions}. */
export const REVOCATION_OPTIONS = Symbol('REVOCATION_OPTIONS');
/** Injection token of the ioredis command client the module owns. */
export const REVOCATION_REDIS = Symbol('REVOCATION_REDIS');
/** Metadata key set by `@Public()`. */
export const IS_PUBLIC = 'rescind:public';
