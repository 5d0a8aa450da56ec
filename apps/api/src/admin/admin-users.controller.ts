import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { isRevocationId, RescindError } from '@rescind/revocation-core';
import { Public, SessionService } from '@rescind/revocation-nest';
import { ADMIN_USER_SESSIONS, ERROR } from '../openapi/openapi-schemas';
import { UserRepository } from '../auth/user.repository';
import { AdminKeyGuard } from './admin-key.guard';

/** Neither a registered username nor the id of a user that ever logged in. */
export class UserNotFoundError extends RescindError {
  constructor() {
    super('ERR_USER_NOT_FOUND', 'No such user');
  }
}

/** One live session as listed to administrators. */
export interface AdminSessionItem {
  sid: string;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  ip: string | null;
}

/** What `GET /admin/users/:user/sessions` answers. */
export interface AdminUserSessions {
  sub: string;
  username: string;
  items: AdminSessionItem[];
}

/** Same shape as registration accepts (auth/credentials.ts). */
const USERNAME = /^[A-Za-z0-9_.-]{3,64}$/;

/**
 * `/admin/users/:user/sessions`: a user's live sessions for the operator (the console's "User"
 * panel), so that one can be revoked (`POST /admin/revocations {sid}`) or all (`{sub}`).
 */
@Public()
@ApiTags('admin')
@ApiBearerAuth('admin-key')
@ApiResponse({ status: 401, description: 'no or wrong admin key', schema: ERROR })
@UseGuards(AdminKeyGuard)
@Controller('admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionService,
  ) {}

  @Get(':user/sessions')
  @ApiParam({
    name: 'user',
    description: 'a username (case-insensitive), else the id (`sub`) of a user that has logged in',
  })
  @ApiResponse({ status: 200, schema: ADMIN_USER_SESSIONS })
  @ApiResponse({ status: 404, description: 'no such user, or ADMIN_API_KEY is not set' })
  async list(@Param('user') user: string): Promise<AdminUserSessions> {
    const { sub, username } = await this.resolve(user);
    const sessions = await this.sessions.list(sub);
    return {
      sub,
      username,
      items: sessions.map((session) => ({
        sid: session.sid,
        created_at: new Date(session.createdAtMs).toISOString(),
        last_used_at: new Date(session.lastUsedAtMs).toISOString(),
        user_agent: session.userAgent ?? null,
        ip: session.ip ?? null,
      })),
    };
  }

  /** The username first: usernames and ids never collide in practice (ids are UUIDs). */
  private async resolve(user: string): Promise<{ sub: string; username: string }> {
    if (USERNAME.test(user)) {
      const found = await this.users.findByUsername(user);
      if (found !== undefined) return { sub: found.id, username: found.username };
    }
    if (isRevocationId(user)) {
      const username = await this.users.usernameOf(user);
      if (username !== undefined) return { sub: user, username };
    }
    throw new UserNotFoundError();
  }
}
