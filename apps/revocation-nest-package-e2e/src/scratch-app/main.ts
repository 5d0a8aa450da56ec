// The scratch app of `revocation-nest-package.spec.ts`: a minimal NestJS app written the way a user
// of the published package would, copied into a fresh folder, compiled there against the installed
// `@rescind/revocation-nest` and run. Here in the repo it is type-checked against the sources.
import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  Logger,
  Module,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  type AccessTokenClaims,
  AuthClaims,
  Public,
  type RevocationReadiness,
  RevocationHealth,
  RevocationModule,
  RevocationService,
  TokenService,
} from '@rescind/revocation-nest';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

@Controller()
class AccountController {
  constructor(
    private readonly tokens: TokenService,
    private readonly revocations: RevocationService,
    private readonly health: RevocationHealth,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  login(): { access_token: string } {
    return { access_token: this.tokens.sign('alice', { username: 'alice' }).token };
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

  @Public()
  @Get('health/ready')
  ready(): RevocationReadiness {
    const readiness = this.health.readiness();
    if (!readiness.ready) throw new ServiceUnavailableException(readiness);
    return readiness;
  }
}

@Module({
  imports: [
    RevocationModule.forRoot({
      redis: required('REDIS_URL'),
      keyPrefix: required('KEY_PREFIX'),
      jwtSecret: required('JWT_SECRET'),
      accessTokenTtlSeconds: 900,
    }),
  ],
  controllers: [AccountController],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['log', 'warn', 'error'] });
  app.enableShutdownHooks();
  await RevocationModule.connect(app);
  await app.listen(0, '127.0.0.1');
  new Logger('ScratchApp').log(`listening on ${await app.getUrl()}`);
}

void main();
