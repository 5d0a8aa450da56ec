import { type INestApplication, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Logger } from 'nestjs-pino';
import { type Logger as PinoLogger } from 'pino';
import { MAX_ID_LENGTH } from '@rescind/revocation-core';
import {
  errorCodes,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { AppModule } from '../app.module';
import { type AppConfig } from '../config/app-config';
import { accessLogEnabled, expressAccessLog, fastifyAccessLog } from '../logging/access-log';
import { createLogger, requestId } from '../logging/logging.module';
import { QuietStartLogger } from '../logging/quiet-start.logger';
import { consoleWithoutSlash } from '../console/console-path';
import { SET_MEDIA_TYPE, SSF_EVENTS_PATH } from '../ssf/set-media-type';
import { clientErrorHandler } from './client-error-handler';

/** A request with the id its access line and its `x-request-id` header carry. */
type IdentifiedRequest = IncomingMessage & { id?: string };

/** Largest request body accepted (JSON or form); larger ones get 413. */
export const BODY_LIMIT_BYTES = 16 * 1024;

// Logs are buffered until the pino logger (LoggingModule) takes over in createApp().
const OPTIONS: NestApplicationOptions = { bufferLogs: true };

function withPino(app: INestApplication): INestApplication {
  app.useLogger(new QuietStartLogger(app.get(Logger)));
  return app;
}

/**
 * `TRUST_PROXY` in the form both adapters take (they both use `proxy-addr`): `X-Forwarded-For` is
 * read only from the trusted hops, so a client that forges it elsewhere keeps its socket address,
 * and the throttles keyed by address (`LoginThrottle`) cannot be escaped by forging it. Unset: no
 * peer is trusted.
 */
function trustedProxies(config: AppConfig): number | string[] | false {
  const { trustProxy } = config;
  if (trustProxy === undefined) return false;
  return typeof trustProxy === 'number' ? trustProxy : [...trustProxy];
}

/**
 * RFC 8935 §2: `POST /ssf/events` takes a Security Event Token as `application/secevent+jwt`
 * text. On that route only, the body of any other media type is left unread, so that the
 * controller answers it RFC 8935's way (400 `invalid_request`); everywhere else both stay the
 * 415 Fastify gives a media type it has no parser for.
 */
function addSecurityEventParsers(instance: FastifyInstance): void {
  const elsewhere = (request: FastifyRequest): boolean =>
    request.routeOptions.url !== SSF_EVENTS_PATH;
  instance.addContentTypeParser(
    SET_MEDIA_TYPE,
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      if (elsewhere(request)) done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
      else done(null, body);
    },
  );
  instance.addContentTypeParser('*', (request, payload, done) => {
    if (elsewhere(request)) {
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
      return;
    }
    payload.resume(); // drained, never held
    done(null, undefined);
  });
}

/** Longest path parameter Fastify routes; a longer one is answered 404 (`frameworkErrors`). */
const MAX_PATH_PARAM_LENGTH = 3 * MAX_ID_LENGTH;

/** The API on Fastify (the default, for speed). */
async function createFastifyApp(config: AppConfig, logger: PinoLogger): Promise<INestApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify's 100 is shorter than a revocation id (256 characters, three each when
    // percent-encoded): `GET /admin/revocations/:id` must reach the route, which judges the id.
    // (Under `routerOptions`: Fastify 5 deprecates the top-level option, with a warning at start.)
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    // The console's address typed with a trailing slash is the console, as on Express (whose
    // routing is not strict); Fastify's router would answer 404.
    rewriteUrl: (request: IncomingMessage) => consoleWithoutSlash(request.url ?? '/'),
    clientErrorHandler: clientErrorHandler(config.instanceId),
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: requestId,
    trustProxy: trustedProxies(config),
    // Errors Fastify answers before any hook runs (e.g. a badly encoded path).
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      // A path parameter longer than any id, even percent-encoded, names nothing: 404, as
      // Express answers it and as the route itself answers any id that is not one of ours.
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        void reply
          .code(404)
          .header('x-instance-id', config.instanceId)
          .send({ statusCode: 404, error: 'ERR_NOT_FOUND', message: 'Not found' });
        return;
      }
      void reply
        .code(400)
        .header('x-instance-id', config.instanceId)
        .send({ statusCode: 400, error: 'ERR_BAD_REQUEST', message: error.message });
    },
  });
  addSecurityEventParsers(adapter.getInstance());
  adapter.getInstance().addHook('onRequest', (request, reply, done) => {
    reply.header('x-instance-id', config.instanceId);
    reply.header('x-request-id', request.id);
    done();
  });
  // The access log (logging/access-log.ts) only where a line would be written.
  if (accessLogEnabled(logger))
    adapter.getInstance().addHook('onResponse', fastifyAccessLog(logger));
  return withPino(
    await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot(config, logger),
      adapter,
      OPTIONS,
    ),
  );
}

/** The API on Express (`HTTP_ADAPTER=express`, for side-by-side benchmarks). */
async function createExpressApp(config: AppConfig, logger: PinoLogger): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, logger),
    new ExpressAdapter(),
    { ...OPTIONS, bodyParser: false },
  );
  app.set('trust proxy', trustedProxies(config));
  app.use((request: IdentifiedRequest, response: ServerResponse, next: () => void) => {
    request.id = requestId(request);
    response.setHeader('x-instance-id', config.instanceId);
    response.setHeader('x-request-id', request.id);
    next();
  });
  if (accessLogEnabled(logger)) app.use(expressAccessLog(logger));
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT_BYTES, extended: false });
  // RFC 8935 §2: a Security Event Token as text (`POST /ssf/events`).
  app.useBodyParser('text', { type: SET_MEDIA_TYPE, limit: BODY_LIMIT_BYTES });
  const server = app.getHttpServer() as Server;
  server.removeAllListeners('clientError');
  server.on('clientError', clientErrorHandler(config.instanceId));
  return withPino(app);
}

/** Creates the Nest application on the configured HTTP adapter. */
export function createApp(config: AppConfig): Promise<INestApplication> {
  const logger = createLogger(config);
  return config.httpAdapter === 'express'
    ? createExpressApp(config, logger)
    : createFastifyApp(config, logger);
}
