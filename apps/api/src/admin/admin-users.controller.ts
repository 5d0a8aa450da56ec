import { Get, Param } from '@nestjs/common';
import { ApiParam, ApiResponse } from '@nestjs/swagger';
import { isRevocationId, RescindError } from '@rescind/revocation-core';
import { SessionService } from '@rescind/revocation-nest';
import { ADMIN_USER_SESSIONS } from '../openapi/openapi-schemas';
import { UserRepository } from '../auth/user.repository';
import { type SessionItem, sessionItem } from '../sessions/session-item';
import { AdminRoutes } from './admin-routes.decorator';

/** Neither a registered username nor the id of a user that ever logged in. */
export class UserNotFoundError extends RescindError {
  constructor() {
    super('ERR_USER_NOT_FOUND', 'No such user');
  }
}

/** What `GET /admin/users/:user/sessions` answers. */
export interface AdminUserSessions {
  sub: string;
  username: string;
  items: SessionItem[];
}

/** Same shape as registration accepts (auth/credentials.ts). */
const USERNAME = /^[A-Za-z0-9_.-]{3,64}$/;

/**
 * `/admin/users/:user/sessions`: a user's live sessions for the operator (the console's "User"
 * panel), so that one can be revoked (`POST /admin/revocations {sid}`) or all (`{sub}`).
 */
@AdminRoutes('admin/users')
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
      items: sessions.map(sessionItem),
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
