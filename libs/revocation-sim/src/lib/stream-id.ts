/** A Redis Stream entry id, `<ms>-<n>`. */
export interface StreamId {
  readonly ms: number;
  readonly n: number;
}

/** The id before every entry (`0-0`). */
export const ZERO_ID: StreamId = { ms: 0, n: 0 };

/** Text form, as `XADD` returns it. */
export function formatId(id: StreamId): string {
  return `${id.ms}-${id.n}`;
}

/** Parses `<ms>-<n>`; anything else reads as `0-0`. */
export function parseId(text: string): StreamId {
  const at = text.indexOf('-');
  const ms = Number(text.slice(0, at));
  const n = Number(text.slice(at + 1));
  return at < 0 || !Number.isFinite(ms) || !Number.isFinite(n) ? ZERO_ID : { ms, n };
}

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function compareIds(a: StreamId, b: StreamId): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.n - b.n;
}

/**
 * The id `XADD *` generates at server time `nowMs` after `last`: the clock's millisecond, or the
 * last one's with the next number when the clock is not ahead of it (ids only grow).
 */
export function nextId(last: StreamId, nowMs: number): StreamId {
  const ms = Math.floor(nowMs);
  return ms > last.ms ? { ms, n: 0 } : { ms: last.ms, n: last.n + 1 };
}
