import { type Revocation } from '@rescind/revocation-core';
import {
  type BridgePlan,
  type BridgePosition,
  type BridgeRead,
  planBridgeRound,
  planBridgeStart,
  planReread,
  positionOf,
  type RawLogEntry,
  rereadPosition,
  rereadWrite,
} from './bridge-rules';
import { EVENT_FIELDS, EventCodec } from './event-codec';

const PEER = 'eu';
const HOUR = 3_600_000;
const AT: BridgePosition = { epoch: 'e1', seq: 4, logId: '100-0' };

function token(id: string): Revocation {
  return { kind: 'token', id, expiresAtMs: 10 * HOUR, createdAtMs: HOUR };
}

/** A log entry as `XREAD` returns it, numbered `seq` in data set `e1`, made in `origin`. */
function entry(
  seq: number,
  origin?: string,
  revocation: Revocation = token(`t${seq}`),
): RawLogEntry {
  const logId = `${100 + seq}-0`;
  const fields = EventCodec.logFields({ ...revocation, epoch: 'e1', seq, logId });
  if (origin !== undefined) fields.push(EVENT_FIELDS.origin, origin);
  return [logId, fields];
}

/** An entry this build cannot read (a newer build's kind) that still names its number. */
function unreadable(seq: number, origin = PEER): RawLogEntry {
  const fields = [EVENT_FIELDS.version, '1', EVENT_FIELDS.kind, 'device', EVENT_FIELDS.id, 'd1'];
  fields.push(EVENT_FIELDS.epoch, 'e1', EVENT_FIELDS.seq, String(seq), EVENT_FIELDS.origin, origin);
  return [`${100 + seq}-0`, fields];
}

function read(over: Partial<BridgeRead>): BridgeRead {
  return {
    position: AT,
    peerEpoch: 'e1',
    peerHeadSeq: AT.seq,
    entries: [],
    batchSize: 3,
    peerName: PEER,
    ...over,
  };
}

/** A plan with its writes reduced to the ids and origins written. */
function summary(plan: BridgePlan): unknown {
  if (plan.kind !== 'apply') return plan;
  return {
    kind: plan.kind,
    applied: plan.toApply.map((w) => `${w.revocation.id}@${w.audit.origin ?? '?'}`),
    next: plan.next,
    caughtUp: plan.caughtUp,
  };
}

describe('the bridge rules (docs/design.md, "Several regions")', () => {
  describe('planBridgeStart', () => {
    const saved = { localEpoch: 'l1', epoch: 'e1', seq: '4', logId: '100-0' };
    it.each<[string, Record<string, string>, string | null, unknown]>([
      ['no position saved', {}, 'l1', { kind: 'reread', cause: 'no position' }],
      ['no data set here', saved, null, { kind: 'reread', cause: 'no position' }],
      ['saved against another data set', saved, 'l2', { kind: 'reread', cause: 'no position' }],
      [
        'a number that is not one',
        { ...saved, seq: '4x' },
        'l1',
        { kind: 'reread', cause: 'no position' },
      ],
      [
        'no log id',
        { localEpoch: 'l1', epoch: 'e1', seq: '4' },
        'l1',
        { kind: 'reread', cause: 'no position' },
      ],
      ['a position saved here', saved, 'l1', { kind: 'follow', localEpoch: 'l1', position: AT }],
    ])('%s', (_name, hash, localEpoch, expected) => {
      expect(planBridgeStart(hash, localEpoch)).toEqual(expected);
      const position = positionOf(hash, localEpoch);
      expect(position).toEqual((expected as { position?: BridgePosition }).position ?? undefined);
    });
  });

  describe('planBridgeRound', () => {
    it.each<[string, Partial<BridgeRead>, unknown]>([
      [
        'the peer has no data set',
        { peerEpoch: null, entries: [entry(5)] },
        { kind: 'wait-for-peer' },
      ],
      [
        'the peer has a new data set',
        { peerEpoch: 'e2', peerHeadSeq: 1, entries: [entry(5)] },
        { kind: 'reread', cause: 'new epoch' },
      ],
      [
        'an empty read with the head ahead (trimmed past the position)',
        { peerHeadSeq: 9 },
        { kind: 'reread', cause: 'trimmed log' },
      ],
      ['an empty read on the head', {}, { kind: 'caught-up' }],
      [
        'a first entry that does not follow the position',
        { peerHeadSeq: 7, entries: [entry(6), entry(7)] },
        { kind: 'reread', cause: 'trimmed log' },
      ],
      [
        'a number missing within the batch',
        { peerHeadSeq: 7, entries: [entry(5), entry(7)] },
        { kind: 'reread', cause: 'trimmed log' },
      ],
      [
        'entries of other origins stepped over, unmarked ones taken as the peer’s',
        { peerHeadSeq: 7, batchSize: 4, entries: [entry(5, 'us'), entry(6), entry(7, PEER)] },
        {
          kind: 'apply',
          applied: [`t6@${PEER}`, `t7@${PEER}`],
          next: { epoch: 'e1', seq: 7, logId: '107-0' },
          caughtUp: true,
        },
      ],
      [
        'unreadable entries stepped over, filling their number',
        { peerHeadSeq: 6, entries: [unreadable(5), entry(6, PEER)] },
        {
          kind: 'apply',
          applied: [`t6@${PEER}`],
          next: { epoch: 'e1', seq: 6, logId: '106-0' },
          caughtUp: true,
        },
      ],
      [
        'only entries of another origin: nothing applied, the position moves on',
        { peerHeadSeq: 6, entries: [entry(5, 'us'), entry(6, 'ap')] },
        {
          kind: 'apply',
          applied: [],
          next: { epoch: 'e1', seq: 6, logId: '106-0' },
          caughtUp: true,
        },
      ],
      [
        'a full batch: not caught up',
        { peerHeadSeq: 20, entries: [entry(5), entry(6), entry(7)] },
        {
          kind: 'apply',
          applied: [`t5@${PEER}`, `t6@${PEER}`, `t7@${PEER}`],
          next: { epoch: 'e1', seq: 7, logId: '107-0' },
          caughtUp: false,
        },
      ],
    ])('%s', (_name, over, expected) => {
      expect(summary(planBridgeRound(read(over)))).toEqual(expected);
    });

    it('writes the revocation alone, audited as replicated by the bridge from its origin', () => {
      const cutoff: Revocation = {
        kind: 'user',
        id: 'u1',
        cutoffMs: 2 * HOUR,
        expiresAtMs: 10 * HOUR,
        createdAtMs: HOUR,
      };
      const plan = planBridgeRound(read({ peerHeadSeq: 5, entries: [entry(5, PEER, cutoff)] }));
      expect(plan.kind === 'apply' && plan.toApply).toEqual([
        { revocation: cutoff, audit: { reason: 'replicated', actor: 'bridge', origin: PEER } },
      ]);
    });

    it('writes it with the reason and actor its entry was logged with', () => {
      const [logId, fields] = entry(5, PEER);
      const logged: RawLogEntry = [
        logId,
        [...fields, EVENT_FIELDS.reason, 'stolen', EVENT_FIELDS.actor, 'admin'],
      ];
      const onlyActor: RawLogEntry = [
        entry(6, PEER)[0],
        [...entry(6, PEER)[1], EVENT_FIELDS.actor, 'self'],
      ];
      const plan = planBridgeRound(read({ peerHeadSeq: 6, entries: [logged, onlyActor] }));
      expect(plan.kind === 'apply' && plan.toApply).toEqual([
        { revocation: token('t5'), audit: { reason: 'stolen', actor: 'admin', origin: PEER } },
        { revocation: token('t6'), audit: { reason: 'replicated', actor: 'self', origin: PEER } },
      ]);
    });
  });

  describe('a re-read', () => {
    it('starts only from a peer that holds a data set, and never gives it one', () => {
      expect(planReread('e2')).toBe('reread');
      expect(planReread(null)).toBe('wait-for-peer');
    });

    it('writes every revocation the peer holds with its own audit, the peer for a missing origin', () => {
      const held = { ...token('a'), reason: 'stolen', actor: 'admin', origin: 'us' };
      expect(rereadWrite(held, PEER)).toEqual({
        revocation: token('a'),
        audit: { reason: 'stolen', actor: 'admin', origin: 'us' },
      });
      expect(rereadWrite(token('b'), PEER)).toEqual({
        revocation: token('b'),
        audit: { reason: 'replicated', actor: 'bridge', origin: PEER },
      });
    });

    it('saves the head read before the live set as the position', () => {
      expect(rereadPosition({ epoch: 'e2', seq: 9, logId: '200-0' })).toEqual({
        epoch: 'e2',
        seq: 9,
        logId: '200-0',
      });
    });
  });
});
