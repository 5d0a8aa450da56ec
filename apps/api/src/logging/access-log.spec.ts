import { type ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { accessLogEnabled, expressAccessLog, fastifyAccessLog } from './access-log';
import { createLogger, LineBatch } from './logging.module';
import type SonicBoom from 'sonic-boom';

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

  it('writes, for any request, exactly the line pino writes for the same fields', () => {
    const raw: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ logLevel: 'info', instanceId: 'api-"quoted"\\' }, sink);
    const hook = fastifyAccessLog(logger);
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_800_000_000_123);
    try {
      const requests = [
        { id: 'r-1', method: 'GET', url: '/me', statusCode: 200, elapsedTime: 0.4 },
        {
          id: 'r-2',
          method: 'DELETE',
          url: '/a"b\\c/\u00e9\u2028?q=1',
          statusCode: 500,
          elapsedTime: 12.5,
        },
        { id: 'x'.repeat(128), method: 'PATCH', url: '/\u0001\n', statusCode: 404, elapsedTime: 0 },
      ];
      for (const { id, method, url, statusCode, elapsedTime } of requests) {
        hook({ id, method, url }, { statusCode, elapsedTime }, () => undefined);
        const path = url.split('?')[0] as string;
        logger.info(
          {
            req: { id, method, url: path },
            res: { statusCode },
            responseTime: Math.round(elapsedTime),
          },
          statusCode >= 500 ? 'request errored' : 'request completed',
        );
      }
    } finally {
      now.mockRestore();
    }
    expect(raw).toHaveLength(6);
    for (let i = 0; i < raw.length; i += 2) expect(raw[i]).toBe(raw[i + 1]);
  });
});

describe('LineBatch', () => {
  function fakeWriter(): { writer: SonicBoom; chunks: string[]; syncFlushes: () => number } {
    const chunks: string[] = [];
    let syncFlushes = 0;
    const writer = {
      write: (chunk: string) => chunks.push(chunk) > 0,
      flushSync: () => void syncFlushes++,
    } as unknown as SonicBoom;
    return { writer, chunks, syncFlushes: () => syncFlushes };
  }

  it('hands the writer one chunk per few kilobytes, never one write per line, in order', () => {
    const { writer, chunks } = fakeWriter();
    const batch = new LineBatch(writer, 1_000, 60_000);
    const lines = Array.from(
      { length: 100 },
      (_, i) => `${JSON.stringify({ i, pad: 'x'.repeat(80) })}\n`,
    );
    for (const line of lines) batch.write(line);

    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.length).toBeLessThanOrEqual(10);
    batch.end();
    expect(chunks.join('')).toBe(lines.join(''));
  });

  it('writes what it holds synchronously at exit, and within its interval when quiet', async () => {
    const { writer, chunks, syncFlushes } = fakeWriter();
    const batch = new LineBatch(writer, 1_000_000, 10);
    batch.write('a\n');
    await waitUntil(() => chunks.length === 1);
    expect(chunks).toEqual(['a\n']);

    batch.write('b\n');
    process.emit('exit', 0);
    expect(chunks).toEqual(['a\n', 'b\n']);
    expect(syncFlushes()).toBe(1);
    batch.end();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
