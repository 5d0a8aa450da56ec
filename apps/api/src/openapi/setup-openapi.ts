import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Serves the API's OpenAPI document: UI at `/docs`, JSON at `/docs/json`. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Rescind API')
    .setDescription(
      'Instant, lossless revocation of JWT access tokens. Every response carries x-instance-id.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'access-token')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY' }, 'admin-key')
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'any client id, ADMIN_API_KEY as password' },
      'admin-key-basic',
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'SSF_PUSH_TOKEN' },
      'ssf-push-token',
    )
    .addCookieAuth('access_token', { type: 'apiKey', in: 'cookie', name: 'access_token' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
}
