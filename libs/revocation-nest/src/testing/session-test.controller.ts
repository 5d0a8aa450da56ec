import { Body, Controller, Delete, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  type AccessTokenClaims,
  AuthClaims,
  type IssuedSession,
  Public,
  SessionService,
} from '../index';

/** The pair a login or refresh hands out, as the test application answers it. */
export interface TestSessionAnswer {
  readonly sid: string;
  readonly access_token: string;
  readonly refresh_token: string;
}

function answer(session: IssuedSession): TestSessionAnswer {
  return {
    sid: session.sid,
    access_token: session.access.token,
    refresh_token: session.refreshToken,
  };
}

/** Session routes of the test application, the way an API would wire `SessionService`. */
@Controller('sessions')
export class SessionTestController {
  constructor(@Inject(SessionService) private readonly sessions: SessionService) {}

  /** Starts a session for the `sub` given (no password: the tests are the users). */
  @Public()
  @Post('login')
  @HttpCode(200)
  async login(@Body() body: { sub: string }): Promise<TestSessionAnswer> {
    return answer(await this.sessions.start(body.sub, { username: body.sub }));
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  async refresh(@Body() body: { refresh_token: string }): Promise<TestSessionAnswer> {
    return answer(
      await this.sessions.refresh(String(body.refresh_token), async (sub) => ({ username: sub })),
    );
  }

  @Delete(':sid')
  @HttpCode(204)
  async end(@AuthClaims() claims: AccessTokenClaims, @Param('sid') sid: string): Promise<void> {
    await this.sessions.end(sid, { sub: claims.sub });
  }

  @Post('end-all')
  @HttpCode(204)
  async endAll(@AuthClaims() claims: AccessTokenClaims): Promise<void> {
    await this.sessions.endAll(claims.sub);
  }
}
