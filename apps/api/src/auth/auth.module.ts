import { Module } from '@nestjs/common';
import { ApiKeys } from './api-keys';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginThrottle, RegisterThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { UserRepository } from './user.repository';

/** Accounts and the token lifecycle routes. */
@Module({
  controllers: [AuthController],
  providers: [
    ApiKeys,
    AuthService,
    PasswordHasher,
    UserRepository,
    LoginThrottle,
    RegisterThrottle,
  ],
})
export class AuthModule {}
