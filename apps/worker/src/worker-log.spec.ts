import { jsonLine, prettyLine } from './worker-log';

describe('worker log lines', () => {
  const entry = {
    time: new Date(2026, 11, 2, 7, 5, 9, 42),
    level: 'warn' as const,
    msg: 'job failed',
    extra: { job: 'tidy' },
  };

  it('are one JSON object per line by default', () => {
    expect(JSON.parse(jsonLine(entry))).toEqual({
      time: entry.time.toISOString(),
      level: 'warn',
      msg: 'job failed',
      job: 'tidy',
    });
  });

  it("read like the API's pretty lines with LOG_FORMAT=pretty", () => {
    expect(prettyLine(entry)).toBe('[07:05:09.042] WARN: job failed {"job":"tidy"}\n');
    expect(prettyLine({ ...entry, extra: {} })).toBe('[07:05:09.042] WARN: job failed\n');
  });
});
