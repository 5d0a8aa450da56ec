import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadApiConfig } from '@rescind/config';
import { RevocationHealth, RevocationModule } from '@rescind/revocation-nest';
import { type AppConfig } from './config/app-config';
import { createApp } from './http/create-app';
import { setupOpenApi } from './openapi/setup-openapi';

async function bootstrap(config: AppConfig): Promise<void> {
  const app = await createApp(config);
  setupOpenApi(app);
  await RevocationModule.connect(app);

  const health = app.get(RevocationHealth);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    Logger.log(`${signal}: draining`, 'Main');
    health.drain();
    // Keep serving while load balancers notice the 503 on /health/ready, then stop accepting,
    // let in-flight requests finish, and close the Redis connections (app.close()).
    setTimeout(() => {
      void app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    }, config.shutdownGraceMs);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await app.listen(config.port, '0.0.0.0');
  Logger.log(
    `API replica ${config.instanceId} (${config.httpAdapter}, ${config.strategy}) listening on http://127.0.0.1:${config.port}`,
    'Main',
  );
}

let config: AppConfig;
try {
  config = loadApiConfig(process.env);
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
