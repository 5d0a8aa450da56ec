import { type SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** JSON schemas of the API's bodies, shared by the controllers' OpenAPI decorators. */
export const CREDENTIALS: SchemaObject = {
  type: 'object',
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', pattern: '^[A-Za-z0-9_.-]{3,64}$' },
    password: { type: 'string', minLength: 8, maxLength: 256 },
  },
};

export const USER: SchemaObject = {
  type: 'object',
  properties: { id: { type: 'string' }, username: { type: 'string' } },
};

export const TOKEN_RESPONSE: SchemaObject = {
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer', description: 'seconds' },
    refresh_token: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{43}$',
      description: 'opaque; for POST /auth/refresh, once (each refresh rotates it)',
    },
    refresh_expires_in: { type: 'integer', description: 'seconds' },
  },
};

export const REFRESH_REQUEST: SchemaObject = {
  type: 'object',
  description: 'or no body, with the refresh_token cookie',
  properties: { refresh_token: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } },
};

/** RFC 6749 §5.2 error body. */
export const OAUTH_ERROR: SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string', example: 'invalid_grant' },
    error_description: { type: 'string' },
  },
};

export const SESSION_LIST: SchemaObject = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sid: { type: 'string' },
          created_at: { type: 'string', format: 'date-time' },
          last_used_at: { type: 'string', format: 'date-time' },
          user_agent: { type: 'string', nullable: true },
          ip: { type: 'string', nullable: true },
          current: { type: 'boolean', description: 'the session of the calling token' },
        },
      },
    },
  },
};

export const ME: SchemaObject = {
  type: 'object',
  properties: {
    sub: { type: 'string' },
    username: { type: 'string' },
    jti: { type: 'string' },
    sid: { type: 'string', description: 'the session (absent from tokens issued before sessions)' },
    iat: { type: 'number', description: 'NumericDate, fractional to the millisecond' },
    exp: { type: 'integer' },
    instance: { type: 'string' },
  },
};

export const ERROR: SchemaObject = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string', example: 'ERR_TOKEN_REVOKED' },
    message: { type: 'string' },
  },
};

export const TOKEN_FORM: SchemaObject = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', description: 'an access token (JWT) or a refresh token' },
    token_type_hint: {
      type: 'string',
      description: 'access_token or refresh_token; a hint only, the token’s shape decides',
    },
  },
};

export const LOGOUT_TOKEN_FORM: SchemaObject = {
  type: 'object',
  required: ['logout_token'],
  properties: {
    logout_token: {
      type: 'string',
      description: 'OpenID Connect Back-Channel Logout 1.0 §2.4 logout token (a signed JWT)',
    },
  },
};

export const INTROSPECTION: SchemaObject = {
  type: 'object',
  required: ['active'],
  properties: {
    active: { type: 'boolean' },
    sub: { type: 'string' },
    username: { type: 'string' },
    jti: { type: 'string', description: 'access tokens' },
    sid: { type: 'string' },
    iat: { type: 'integer' },
    exp: { type: 'integer' },
    token_type: { type: 'string', enum: ['Bearer', 'refresh_token'] },
    iss: {
      type: 'string',
      description: 'an external issuer’s access token: its issuer (sub, jti, sid namespaced)',
    },
  },
};

const ISS_DESCRIPTION =
  'a configured external issuer: the id is its own, revoked in its namespace (docs/design.md, "External issuers")';

export const ADMIN_REVOCATION: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      required: ['jti'],
      properties: {
        jti: { type: 'string' },
        exp: { type: 'number', description: 'the token’s exp (NumericDate)' },
        reason: { type: 'string', maxLength: 512 },
        iss: { type: 'string', description: ISS_DESCRIPTION },
      },
    },
    {
      type: 'object',
      required: ['sub'],
      properties: {
        sub: { type: 'string' },
        reason: { type: 'string', maxLength: 512 },
        iss: { type: 'string', description: ISS_DESCRIPTION },
      },
    },
    {
      type: 'object',
      required: ['sid'],
      properties: {
        sid: { type: 'string' },
        reason: { type: 'string', maxLength: 512 },
        iss: { type: 'string', description: ISS_DESCRIPTION },
      },
    },
  ],
};

export const REVOCATION_RECEIPT: SchemaObject = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['token', 'user', 'session'] },
    id: { type: 'string', description: 'the id given (the provider’s own with iss)' },
    iss: { type: 'string', description: 'the external issuer, when one was given' },
    at: { type: 'string', format: 'date-time' },
  },
};

/** The region a revocation was made in (docs/design.md, "Several regions"). */
const ORIGIN: SchemaObject = {
  type: 'string',
  nullable: true,
  description: 'the region (REGION) it was made in; null when made without regions',
};

export const REVOCATION_PAGE: SchemaObject = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: ['token', 'user', 'session'] },
          id: { type: 'string', description: 'as stored: namespaced for an external issuer' },
          iss: { type: 'string', description: 'the external issuer whose namespace id is in' },
          provider_id: { type: 'string', description: 'with iss: the id as the issuer wrote it' },
          reason: { type: 'string', nullable: true },
          actor: { type: 'string', nullable: true, description: 'who asked, e.g. self or admin' },
          origin: ORIGIN,
          at: { type: 'string', format: 'date-time' },
          expiresAt: { type: 'string', format: 'date-time' },
        },
      },
    },
    next_cursor: { type: 'string', nullable: true },
  },
};

const LOG_POSITION: SchemaObject = {
  type: 'object',
  description: 'a position in the revocation log: data set (epoch) and sequence number',
  properties: {
    epoch: { type: 'string' },
    seq: { type: 'integer', minimum: 0 },
  },
  required: ['epoch', 'seq'],
};

export const REPLICA_LIST: SchemaObject = {
  type: 'object',
  description:
    'every replica whose status has not expired (docs/design.md, "Fleet presence"); advisory',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          instance: { type: 'string' },
          region: { type: 'string', description: 'when the replica has REGION set' },
          log_position: { ...LOG_POSITION, nullable: true },
          ready: { type: 'boolean' },
          in_sync: { type: 'boolean' },
          staleness_ms: { type: 'integer', description: '-1 before the first hydration' },
          cache_entries: { type: 'integer' },
          reported_at: { type: 'string', format: 'date-time' },
          started_at: { type: 'string', format: 'date-time' },
        },
        required: [
          'instance',
          'log_position',
          'ready',
          'in_sync',
          'staleness_ms',
          'cache_entries',
          'reported_at',
          'started_at',
        ],
      },
    },
    ready_count: { type: 'integer' },
  },
  required: ['items', 'ready_count'],
};

export const REVOCATION_DETAIL: SchemaObject = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['token', 'user', 'session'] },
    id: { type: 'string', description: 'as stored: namespaced for an external issuer' },
    iss: { type: 'string', description: 'the external issuer whose namespace id is in' },
    provider_id: { type: 'string', description: 'with iss: the id as the issuer wrote it' },
    reason: { type: 'string', nullable: true },
    actor: { type: 'string', nullable: true },
    origin: ORIGIN,
    at: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    log_position: {
      ...LOG_POSITION,
      description: 'where it was logged; absent for revocations recorded by older builds',
    },
    confirmed_by: {
      type: 'integer',
      description: 'ready replicas in sync whose applied log position covers it',
    },
    ready_replicas: { type: 'integer' },
    replicas: {
      type: 'array',
      items: {
        type: 'object',
        properties: { instance: { type: 'string' }, confirmed: { type: 'boolean' } },
      },
    },
  },
};

export const AUTHORIZATION_SERVER_METADATA: SchemaObject = {
  type: 'object',
  description: 'RFC 8414 §2 authorization server metadata',
  properties: {
    issuer: { type: 'string', format: 'uri' },
    revocation_endpoint: { type: 'string', format: 'uri' },
    revocation_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
    introspection_endpoint: { type: 'string', format: 'uri' },
    introspection_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
    response_types_supported: { type: 'array', items: { type: 'string' } },
    service_documentation: { type: 'string', format: 'uri' },
  },
};

export const ADMIN_USER_SESSIONS: SchemaObject = {
  type: 'object',
  properties: {
    sub: { type: 'string', description: 'the user id, what `POST /admin/revocations {sub}` takes' },
    username: { type: 'string' },
    items: {
      type: 'array',
      description: 'live sessions, the most recently refreshed first',
      items: {
        type: 'object',
        properties: {
          sid: { type: 'string' },
          created_at: { type: 'string', format: 'date-time' },
          last_used_at: { type: 'string', format: 'date-time' },
          user_agent: { type: 'string', nullable: true },
          ip: { type: 'string', nullable: true },
        },
      },
    },
  },
};
