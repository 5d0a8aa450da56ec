import {
  Body,
  Controller,
  Headers,
  HttpCode,
  HttpException,
  NotFoundException,
  Post,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { Public, SecurityEventError, SecurityEventReceiver } from '@rescind/revocation-nest';
import { ERROR } from '../openapi/openapi-schemas';
import { isSetMediaType, SET_MEDIA_TYPE } from './set-media-type';

/** RFC 8935 §2.3 error body. */
const SET_ERROR: SchemaObject = {
  type: 'object',
  required: ['err', 'description'],
  properties: {
    err: { type: 'string', example: 'invalid_key' },
    description: { type: 'string' },
  },
};

/** The RFC 8935 §2.3 answer to a refused push: `{"err", "description"}`, 400 or 401. */
function refusal(error: SecurityEventError): HttpException {
  return new HttpException({ err: error.err, description: error.description }, error.status);
}

/**
 * `POST /ssf/events`: the push endpoint (RFC 8935) of a Shared Signals receiver. The transmitter
 * of `SSF_ISSUER` posts CAEP Security Event Tokens; session-revoked and credential-change revoke
 * on every replica (docs/design.md, "Security events (CAEP)"). Without `SSF_ISSUER` the route
 * does not exist (404), as the admin routes without their key.
 */
@Public()
@ApiTags('ssf')
@Controller('ssf')
export class SsfEventsController {
  constructor(private readonly receiver: SecurityEventReceiver) {}

  /**
   * RFC 8935 §2.2: 202 with an empty body once the SET's revocations are recorded (or it was
   * received before, or asks nothing of us); §2.3: 400 `{"err", "description"}` for a SET
   * refused, 401 for a push without the agreed credential (§3, RFC 6750 §3).
   */
  @Post('events')
  @HttpCode(202)
  @ApiConsumes(SET_MEDIA_TYPE)
  @ApiBearerAuth('ssf-push-token')
  @ApiBody({ schema: { type: 'string', description: 'a Security Event Token (RFC 8417)' } })
  @ApiResponse({ status: 202, description: 'received; empty body' })
  @ApiResponse({
    status: 400,
    description: 'invalid_request, invalid_key, invalid_issuer or invalid_audience',
    schema: SET_ERROR,
  })
  @ApiResponse({ status: 401, description: 'authentication_failed', schema: SET_ERROR })
  @ApiResponse({ status: 404, description: 'no transmitter configured', schema: ERROR })
  @ApiResponse({
    status: 503,
    description: 'the store cannot take the write (Retry-After)',
    schema: ERROR,
  })
  async receive(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<void> {
    if (!this.receiver.configured) throw new NotFoundException();
    try {
      if (!isSetMediaType(contentType) || typeof body !== 'string') {
        throw new SecurityEventError(
          'invalid_request',
          `The body must be a SET sent as ${SET_MEDIA_TYPE}`,
        );
      }
      await this.receiver.receive(body, authorization);
    } catch (error) {
      throw error instanceof SecurityEventError ? refusal(error) : error;
    }
  }
}
