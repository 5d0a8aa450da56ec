import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadApiConfig, runWithConfig } from '@rescind/config';
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
    // The log is buffered (logging/logging.module.ts): its exit flush writes what is left, this
    // last line included.
    setTimeout(() => {
      void app.close().then(
        () => {
          Logger.log('stopped', 'Main');
          process.exit(0);
        },
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

runWithConfig('rescind api', loadApiConfig, bootstrap);
