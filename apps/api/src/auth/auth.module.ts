import { Module } from '@nestjs/common';
import { ApiKeys } from './api-keys';
import { SessionsController } from '../sessions/sessions.controller';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { HashBulkhead } from './hash-bulkhead';
import { LoginThrottle, RegisterThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { UserRepository } from './user.repository';

/** Accounts, sessions and the token lifecycle routes. */
@Module({
  controllers: [AuthController, SessionsController],
  providers: [
    ApiKeys,
    AuthService,
    HashBulkhead,
    PasswordHasher,
    UserRepository,
    LoginThrottle,
    RegisterThrottle,
  ],
  exports: [AuthService, UserRepository],
})
export class AuthModule {}
