import { checkHistory } from './checker';
import { type HistoryEntry } from './history-entry';
import { formatReport, passed } from './report-format';

const history: HistoryEntry[] = [
  {
    type: 'run',
    seed: 9,
    startedAt: 0,
    replicas: [{ label: 'a', cacheMax: 2 }],
    lanes: 1,
    faultKinds: ['redis-wipe'],
    fanOutBoundMs: 100,
  },
  {
    type: 'op',
    id: 1,
    lane: 0,
    kind: 'login',
    replica: 'a',
    sentAt: 0,
    doneAt: 5,
    status: 200,
    jti: 't',
    sub: 'u',
    exp: 999,
  },
  {
    type: 'op',
    id: 2,
    lane: 0,
    kind: 'logout',
    replica: 'a',
    sentAt: 10,
    doneAt: 15,
    status: 204,
    jti: 't',
    sub: 'u',
  },
  {
    type: 'op',
    id: 3,
    lane: 0,
    kind: 'read',
    replica: 'a',
    sentAt: 20,
    doneAt: 21,
    status: 200,
    jti: 't',
    sub: 'u',
  },
  { type: 'liveness', at: 30, ok: true, detail: 'every replica ready' },
];

describe('formatReport', () => {
  it('fails a run with a violation and names the read and the revocation', () => {
    const result = checkHistory(history);
    const report = formatReport({ result, historyPath: '/tmp/h.jsonl', replicas: [], wallMs: 30 });
    expect(passed(result)).toBe(false);
    expect(report).toContain('violations: 1');
    expect(report).toMatch(/#3 read on a jti t sub u .* → 200 .* after #2 logout on a/);
    expect(report).toContain('VERDICT: FAIL');
  });

  it('passes the same run without the late read', () => {
    const result = checkHistory(
      history.filter((entry) => !(entry.type === 'op' && entry.id === 3)),
    );
    expect(passed(result)).toBe(true);
    expect(
      formatReport({ result, historyPath: '/tmp/h.jsonl', replicas: [], wallMs: 30 }),
    ).toContain('VERDICT: PASS');
  });
});
