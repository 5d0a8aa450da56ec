import { Controller, Get, Inject, Req } from '@nestjs/common';
import { TEXTBOOK_INSTANCE } from './textbook.constants';
import { type TextbookRequest } from './textbook-auth.guard';

/** `GET /me`, answering the same shape as the Rescind API's. */
@Controller('me')
export class TextbookMeController {
  constructor(@Inject(TEXTBOOK_INSTANCE) private readonly instance: string) {}

  @Get()
  me(@Req() request: TextbookRequest): Record<string, unknown> {
    const user = request.user ?? {};
    return {
      sub: user['sub'],
      username: user['username'],
      jti: user['jti'],
      iat: user['iat'],
      exp: user['exp'],
      instance: this.instance,
    };
  }
}
