import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@rescind/revocation-nest';
import { ERROR } from '../openapi/openapi-schemas';
import { AdminKeyGuard } from './admin-key.guard';

/**
 * A controller of admin routes under `path`: the admin key instead of an access token
 * (`AdminKeyGuard`; 404 while `ADMIN_API_KEY` is unset), documented alike in the OpenAPI document.
 */
export function AdminRoutes(path: string): ClassDecorator {
  return applyDecorators(
    Public(),
    ApiTags('admin'),
    ApiBearerAuth('admin-key'),
    ApiResponse({ status: 401, description: 'no or wrong admin key', schema: ERROR }),
    ApiResponse({ status: 404, description: 'ADMIN_API_KEY is not set' }),
    UseGuards(AdminKeyGuard),
    Controller(path),
  );
}
