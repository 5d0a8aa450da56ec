import { loadApiConfig } from '../lib/api-config';
import { ConfigError } from '../lib/config.error';

/** What `loadApiConfig` refuses in `env`, one line per problem; empty when it accepts it. */
export function apiConfigProblems(env: Record<string, string>): readonly string[] {
  try {
    loadApiConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
