import { type ApiConfig } from '@rescind/config';

/** Injection token of the validated {@link ApiConfig}; nothing else reads `process.env`. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export type { ApiConfig as AppConfig };
