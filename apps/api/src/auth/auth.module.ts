import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher';
import { UserRepository } from './user.repository';

/** Accounts and the token lifecycle routes. */
@Module({
  controllers: [AuthController],
  providers: [AuthService, PasswordHasher, UserRepository],
})
export class AuthModule {}
