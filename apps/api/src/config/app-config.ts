import { type RescindConfig } from '@rescind/config';

/** Injection token of the validated {@link RescindConfig}; nothing else reads `process.env`. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export type { RescindConfig as AppConfig };
