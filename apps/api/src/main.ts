import 'reflect-metadata';
import { STATUS_CODES } from 'node:http';
import { type Socket } from 'node:net';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, loadRescindConfig } from '@rescind/config';
import { RevocationHealth, RevocationModule } from '@rescind/revocation-nest';
import { AppModule } from './app.module';
import { type AppConfig } from './config/app-config';

/** Largest request body accepted (JSON or form); larger ones get 413. */
const BODY_LIMIT_BYTES = 16 * 1024;

/** Answers requests the HTTP parser rejects (oversized headers, garbage) with JSON, not a bare 400. */
function clientErrorHandler(instanceId: string) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 408
          : 400;
    const body = JSON.stringify({
      statusCode: status,
      error: 'ERR_BAD_REQUEST',
      message: STATUS_CODES[status],
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-instance-id: ${instanceId}\r\n\r\n${body}`,
    );
  };
}

async function bootstrap(config: AppConfig): Promise<void> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    clientErrorHandler: clientErrorHandler(config.instanceId),
    return503OnClosing: true,
  });
  adapter.getInstance().addHook('onRequest', (_request, reply, done) => {
    reply.header('x-instance-id', config.instanceId);
    done();
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    // One JSON object per line: what log shippers expect, and no colour codes in pipes.
    logger: new ConsoleLogger({ json: true, colors: false }),
  });
  await RevocationModule.connect(app);

  const health = app.get(RevocationHealth);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    Logger.log(`${signal}: draining`, 'Main');
    health.drain();
    // app.close() stops accepting, lets in-flight requests finish, then closes Redis connections.
    void app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await app.listen({ port: config.port, host: '0.0.0.0' });
  Logger.log(
    `API replica ${config.instanceId} listening on http://127.0.0.1:${config.port}`,
    'Main',
  );
}

let config: AppConfig;
try {
  config = loadRescindConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`rescind api: ${error.message}\n`);
  process.exit(2);
}
bootstrap(config).catch((error: unknown) => {
  process.stderr.write(
    `rescind api: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
