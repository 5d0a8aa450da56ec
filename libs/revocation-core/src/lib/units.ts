/** Milliseconds since the Unix epoch, or a duration in milliseconds. */
export type Milliseconds = number;

/** Seconds (RFC 7519 NumericDate; may be fractional). */
export type Seconds = number;
