import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiKeys } from './api-keys';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LOGIN_BY_IP, LOGIN_BY_USERNAME, LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { UserRepository } from './user.repository';

/** Accounts and the token lifecycle routes. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => [
        {
          name: LOGIN_BY_USERNAME,
          limit: config.loginFailureLimit,
          ttl: config.loginFailureWindowMs,
          blockDuration: config.loginFailureWindowMs,
        },
        {
          name: LOGIN_BY_IP,
          limit: config.loginIpFailureLimit,
          ttl: config.loginFailureWindowMs,
          blockDuration: config.loginFailureWindowMs,
        },
      ],
    }),
  ],
  controllers: [AuthController],
  providers: [
    ApiKeys,
    AuthService,
    PasswordHasher,
    UserRepository,
    RedisThrottlerStorage,
    LoginThrottle,
  ],
})
export class AuthModule {}
