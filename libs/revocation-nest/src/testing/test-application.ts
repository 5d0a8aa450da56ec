import {
  Controller,
  type DynamicModule,
  Get,
  HttpCode,
  Inject,
  type INestApplication,
  Module,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  type AccessTokenClaims,
  AuthClaims,
  Public,
  RevocationHealth,
  type RevocationModuleOptions,
  type RevocationReadiness,
  RevocationModule,
  RevocationService,
} from '../index';
import { TEST_REDIS_URL } from '@rescind/testing';
import { SessionTestController } from './session-test.controller';

/** The HTTP platforms the module must work on. */
export type HttpPlatform = 'express' | 'fastify';

/** Secret of the test applications' tokens (HS256 wants at least 32 bytes). */
export const TEST_JWT_SECRET = 'x'.repeat(32);

/** A minimal application using the module the way an API would. */
@Controller()
export class TestAppController {
  constructor(
    @Inject(RevocationService) private readonly revocations: RevocationService,
    @Inject(RevocationHealth) private readonly health: RevocationHealth,
  ) {}

  @Public()
  @Get('public')
  publicRoute(): { ok: true } {
    return { ok: true };
  }

  @Public()
  @Get('ready')
  ready(): RevocationReadiness {
    return this.health.readiness();
  }

  @Get('me')
  me(@AuthClaims() claims: AccessTokenClaims): AccessTokenClaims {
    return claims;
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@AuthClaims() claims: AccessTokenClaims): Promise<void> {
    await this.revocations.revokeToken(claims.jti, claims.exp * 1000);
  }

  @Post('logout-session')
  @HttpCode(204)
  async logoutSession(@AuthClaims() claims: AccessTokenClaims): Promise<void> {
    // A token without a session has no sid: refused as bad input (400) by the service.
    await this.revocations.revokeSession(claims.sid ?? '');
  }

  @Post('logout-all')
  @HttpCode(204)
  async logoutAll(@AuthClaims() claims: AccessTokenClaims): Promise<void> {
    await this.revocations.revokeAllForUser(claims.sub);
  }
}

/** Root module of {@link TestAppController} with the revocation module configured by the test. */
@Module({})
export class TestAppModule {
  /** @param revocation `RevocationModule.forRoot()` or `.forRootAsync()` */
  static with(revocation: DynamicModule): DynamicModule {
    return {
      module: TestAppModule,
      imports: [revocation],
      controllers: [TestAppController, SessionTestController],
    };
  }
}

/** The options every test application starts from; tests override what they exercise. */
export function testModuleOptions(
  keyPrefix: string,
  overrides: Partial<RevocationModuleOptions> = {},
): RevocationModuleOptions {
  return {
    redis: TEST_REDIS_URL,
    keyPrefix,
    jwtSecret: TEST_JWT_SECRET,
    accessTokenTtlSeconds: 60,
    maxStalenessMs: 2000,
    ...overrides,
  };
}

/** A started test application and the base URL it answers on. */
export interface RunningTestApp {
  readonly platform: HttpPlatform;
  readonly app: INestApplication;
  /** e.g. `http://127.0.0.1:41234`, without a trailing slash. */
  readonly url: string;
}

/**
 * Creates the application on `platform`, connects the revocation events server and listens on a
 * free loopback port. The caller closes it with `app.close()`.
 * @param revocation options of `RevocationModule.forRoot()`, or the configured module itself
 */
export async function startTestApp(
  platform: HttpPlatform,
  revocation: RevocationModuleOptions | DynamicModule,
): Promise<RunningTestApp> {
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const revocationModule =
    'module' in revocation ? revocation : RevocationModule.forRoot(revocation);
  const app = await NestFactory.create(TestAppModule.with(revocationModule), adapter, {
    logger: ['error'],
    abortOnError: false,
  });
  try {
    await RevocationModule.connect(app);
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close();
    throw error;
  }
  // Fastify may report `[::1]` or `localhost`; the server only listens on 127.0.0.1.
  const url = new URL(await app.getUrl());
  url.hostname = '127.0.0.1';
  return { platform, app, url: url.origin };
}

/** One HTTP answer, body parsed as JSON when it is JSON. */
export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** Options of {@link call}. */
export interface CallOptions {
  readonly method?: 'GET' | 'POST';
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Raw `Authorization` header, when the test needs a malformed one. */
  readonly authorization?: string;
  /** Raw `Cookie` header. */
  readonly cookie?: string;
}

/** Sends one request with the global `fetch` and reads the whole answer. */
export async function call(
  baseUrl: string,
  path: string,
  { method = 'GET', token, authorization, cookie }: CallOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  if (authorization !== undefined) headers['authorization'] = authorization;
  if (cookie !== undefined) headers['cookie'] = cookie;
  const response = await fetch(`${baseUrl}${path}`, { method, headers });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('application/json')) {
    body = JSON.parse(text) as unknown;
  }
  return { status: response.status, headers: response.headers, body };
}

/** What `GET /ready` of `baseUrl` answers. */
export async function readiness(baseUrl: string): Promise<RevocationReadiness> {
  return (await call(baseUrl, '/ready')).body as RevocationReadiness;
}
