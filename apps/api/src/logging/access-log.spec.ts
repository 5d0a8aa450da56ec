import { type ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { accessLogEnabled, expressAccessLog, fastifyAccessLog } from './access-log';
import { createLogger } from './logging.module';

/** A logger at `level` writing into `lines` (parsed), as the replica's writes to stdout. */
function capture(level: 'info' | 'warn'): {
  lines: Record<string, unknown>[];
  logger: ReturnType<typeof createLogger>;
} {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ logLevel: level, instanceId: 'api-test' }, sink) };
}

type ExpressRequest = Parameters<ReturnType<typeof expressAccessLog>>[0];

describe('the access log', () => {
  it('is installed at info and not at warn', () => {
    expect(accessLogEnabled(capture('info').logger)).toBe(true);
    expect(accessLogEnabled(capture('warn').logger)).toBe(false);
  });

  it('writes one line per request: id, method, path without its query, status, time', () => {
    const { lines, logger } = capture('info');
    const hook = fastifyAccessLog(logger);
    const done = jest.fn();
    hook(
      { id: 'r-1', method: 'GET', url: '/me?token=secret' },
      { statusCode: 200, elapsedTime: 1.6 },
      done,
    );
    hook(
      { id: 'r-2', method: 'POST', url: '/auth/login' },
      { statusCode: 503, elapsedTime: 0.2 },
      done,
    );
    hook(
      { id: 'r-3', method: 'GET', url: '/health/ready?x=1' },
      { statusCode: 200, elapsedTime: 0.1 },
      done,
    );
    expect(done).toHaveBeenCalledTimes(3);
    expect(lines).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        instance: 'api-test',
        req: { id: 'r-1', method: 'GET', url: '/me' },
        res: { statusCode: 200 },
        responseTime: 2,
        msg: 'request completed',
      },
      expect.objectContaining({
        req: { id: 'r-2', method: 'POST', url: '/auth/login' },
        msg: 'request errored',
      }),
    ]);
  });

  it('on Express, writes the line once the answer is sent', () => {
    const { lines, logger } = capture('info');
    const response = Object.assign(new EventEmitter(), { statusCode: 401 });
    const next = jest.fn();
    expressAccessLog(logger)(
      {
        id: 'e-1',
        method: 'GET',
        originalUrl: '/me?x=1',
        url: '/me',
      } as unknown as ExpressRequest,
      response as unknown as ServerResponse,
      next,
    );
    expect(next).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([]);
    response.emit('finish');
    expect(lines).toEqual([
      expect.objectContaining({
        req: { id: 'e-1', method: 'GET', url: '/me' },
        res: { statusCode: 401 },
      }),
    ]);
  });
});
