import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { Redis } from 'ioredis';
import { TEXTBOOK_INSTANCE, TEXTBOOK_REDIS } from './textbook.constants';
import { TextbookAuthGuard } from './textbook-auth.guard';
import { TextbookMeController } from './textbook-me.controller';

/** Settings of the textbook app, read once in its `main.ts`. */
export interface TextbookSettings {
  readonly redisUrl: string;
  /** Passed to `JwtModule` as a string, as the tutorials do. */
  readonly jwtSecret: string;
  readonly instance: string;
}

/** The textbook app: `JwtModule` with a string secret and a global Redis deny-list guard. */
@Module({})
export class TextbookModule {
  static forRoot(settings: TextbookSettings): DynamicModule {
    return {
      module: TextbookModule,
      imports: [JwtModule.register({ secret: settings.jwtSecret })],
      controllers: [TextbookMeController],
      providers: [
        { provide: TEXTBOOK_REDIS, useFactory: () => new Redis(settings.redisUrl) },
        { provide: TEXTBOOK_INSTANCE, useValue: settings.instance },
        { provide: APP_GUARD, useClass: TextbookAuthGuard },
      ],
    };
  }
}
