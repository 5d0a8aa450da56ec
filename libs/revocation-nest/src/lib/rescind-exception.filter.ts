import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RescindError } from '@rescind/revocation-core';

/** How one error code is answered over HTTP. */
export interface ErrorAnswer {
  readonly status: number;
  /** Extra headers, e.g. `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** RFC 6750 §3.1 error code for the 401 challenge, when a credential was presented. */
  readonly challenge?: 'invalid_token';
  /**
   * RFC 6749 §5.2 error code: the body is then `{error, error_description}`, as OAuth clients
   * read it, instead of `{statusCode, error, message}`.
   */
  readonly oauthError?: 'invalid_grant';
}

const REALM = 'Bearer realm="api"';

/** The library's own codes; applications add theirs through the constructor. */
export const DEFAULT_ERROR_ANSWERS: Readonly<Record<string, ErrorAnswer>> = {
  ERR_TOKEN_MISSING: { status: 401 },
  ERR_TOKEN_INVALID: { status: 401, challenge: 'invalid_token' },
  ERR_TOKEN_REVOKED: { status: 401, challenge: 'invalid_token' },
  ERR_INVALID_INPUT: { status: 400 },
  ERR_INVALID_GRANT: { status: 401, oauthError: 'invalid_grant' },
  ERR_NOT_IN_SYNC: { status: 503, headers: { 'Retry-After': '1' } },
  ERR_STORE_UNAVAILABLE: { status: 503, headers: { 'Retry-After': '1' } },
};

function quoted(value: string): string {
  return value.replace(/["\\]/g, '');
}

/**
 * The one place where error codes become HTTP answers: a JSON body `{statusCode, error,
 * message}` always, and RFC 6750 §3 challenges on every 401. Works on Express and Fastify.
 */
@Catch()
export class RescindExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('RescindExceptionFilter');
  private readonly answers: Readonly<Record<string, ErrorAnswer>>;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    extraAnswers: Readonly<Record<string, ErrorAnswer>> = {},
  ) {
    this.answers = { ...DEFAULT_ERROR_ANSWERS, ...extraAnswers };
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse<unknown>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let body: Record<string, unknown>;
    const headers: Record<string, string> = {};

    if (exception instanceof RescindError && this.answers[exception.code] !== undefined) {
      const answer = this.answers[exception.code] as ErrorAnswer;
      status = answer.status;
      Object.assign(headers, answer.headers);
      const retryAfter = (exception as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      if (typeof retryAfter === 'number') headers['Retry-After'] = String(retryAfter);
      body =
        answer.oauthError === undefined
          ? { statusCode: status, error: exception.code, message: exception.message }
          : { error: answer.oauthError, error_description: exception.message };
      if (status === 401) {
        headers['WWW-Authenticate'] =
          answer.challenge === undefined
            ? REALM
            : `${REALM}, error="${answer.challenge}", error_description="${quoted(exception.message)}"`;
      }
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const payload = exception.getResponse();
      body =
        typeof payload === 'object' && payload !== null
          ? (payload as Record<string, unknown>)
          : { statusCode: status, message: String(payload) };
      if (status === 401) headers['WWW-Authenticate'] = REALM;
    } else if (isClientError(exception)) {
      // Errors raised by the HTTP layer before a handler ran (bad JSON, body too large…).
      status = exception.statusCode;
      body = {
        statusCode: status,
        error: exception.code ?? 'ERR_BAD_REQUEST',
        message: exception.message,
      };
    } else {
      // The request id, written here: a request logger may not be bound to this request.
      const { id } = host.switchToHttp().getRequest<{ id?: unknown }>();
      const request = typeof id === 'string' ? ` (request ${id})` : '';
      this.log.error(
        `${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}${request}`,
      );
      body = { statusCode: status, error: 'ERR_INTERNAL', message: 'Internal server error' };
    }
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, body, status);
  }
}

function isClientError(
  error: unknown,
): error is { statusCode: number; code?: string; message: string } {
  if (typeof error !== 'object' || error === null) return false;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}
