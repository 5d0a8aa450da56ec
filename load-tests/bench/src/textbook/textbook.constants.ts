/** Injection token of the textbook app's ioredis client. */
export const TEXTBOOK_REDIS = Symbol('TEXTBOOK_REDIS');

/** Injection token of the textbook app's instance name. */
export const TEXTBOOK_INSTANCE = Symbol('TEXTBOOK_INSTANCE');

/** Printed once the textbook app listens; the benchmark waits for it. */
export const TEXTBOOK_LISTENING = 'textbook listening on';
