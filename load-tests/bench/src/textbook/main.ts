import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { TEXTBOOK_LISTENING } from './textbook.constants';
import { TextbookModule } from './textbook.module';

// The textbook configuration the benchmark compares against: Express, `@nestjs/jwt` with a
// string secret, and `GET <raw token>` on Redis per request. Started by the benchmark as its own
// process.
async function bootstrap(): Promise<void> {
  const port = Number(process.env['PORT'] ?? 3000);
  const app = await NestFactory.create(
    TextbookModule.forRoot({
      redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      jwtSecret: process.env['JWT_SECRET'] ?? 'textbook-secret',
      instance: `textbook-${process.pid}`,
    }),
    new ExpressAdapter(),
    { logger: ['error', 'warn'] },
  );
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  console.log(`${TEXTBOOK_LISTENING} http://127.0.0.1:${port}`);
}

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
