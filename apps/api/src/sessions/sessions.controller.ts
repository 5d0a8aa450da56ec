import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type AccessTokenClaims, AuthClaims, SessionService } from '@rescind/revocation-nest';
import { ERROR, SESSION_LIST } from '../openapi/openapi-schemas';
import { SessionNotFoundError } from '../auth/auth.errors';
import { type SessionItem, sessionItem } from './session-item';

/** One session as `GET /auth/sessions` lists it. */
export interface OwnSessionItem extends SessionItem {
  /** The session of the token that asked. */
  current: boolean;
}

/** `/auth/sessions`: the caller's live sessions, and ending one of them ("sign out that device"). */
@ApiTags('auth')
@ApiBearerAuth('access-token')
@ApiResponse({ status: 401, schema: ERROR })
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  @ApiResponse({ status: 200, schema: SESSION_LIST })
  async list(@AuthClaims() claims: AccessTokenClaims): Promise<{ items: OwnSessionItem[] }> {
    const sessions = await this.sessions.list(claims.sub);
    return {
      items: sessions.map((session) => ({
        ...sessionItem(session),
        current: session.sid === claims.sid,
      })),
    };
  }

  /**
   * Ends one of the caller's sessions everywhere. Another user's session, an unknown or ended
   * one and a malformed id are all 404 alike, so that the answer tells nothing about others.
   */
  @Delete(':sid')
  @HttpCode(204)
  @ApiParam({ name: 'sid', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } })
  @ApiResponse({ status: 204, description: 'the session is revoked on every replica' })
  @ApiResponse({ status: 404, description: 'not a live session of the caller', schema: ERROR })
  async end(@AuthClaims() claims: AccessTokenClaims, @Param('sid') sid: string): Promise<void> {
    // A malformed sid is no session of the caller's either (SessionService.end says false).
    const ended = await this.sessions.end(sid, {
      sub: claims.sub,
      reason: 'session-deleted',
      actor: claims.sub,
    });
    if (!ended) throw new SessionNotFoundError();
  }
}
