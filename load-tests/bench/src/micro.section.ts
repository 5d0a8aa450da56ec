import { createSecretKey } from 'node:crypto';
import { Algorithm, hashSync, verifySync } from '@node-rs/argon2';
import { PASSWORD_HASH_MIN_PRODUCTION_COST } from '@rescind/config';
import { type CheckedClaims, RevocationCache } from '@rescind/revocation-core';
import {
  extractBearerToken,
  resolveRevocationOptions,
  TokenService,
} from '@rescind/revocation-nest';
import jwt from 'jsonwebtoken';
import { type BenchOptions } from './bench-options';
import { randomJti } from './revocation-loader';
import { formatFixed, formatInt, median } from './stats';

/** One micro-benchmark's result. */
export interface MicroResult {
  readonly name: string;
  readonly nsPerOp: number;
}

/** The micro-benchmark of a login's password verification (its inverse: logins/s per core). */
export const LOGIN_VERIFY = `Argon2id verify, m = ${PASSWORD_HASH_MIN_PRODUCTION_COST} KiB, t = 2, p = 1 (a login)`;

/** Entries in the cache under test, as in the HTTP rounds. */
const CACHE_ENTRIES = 100_000;
const SAMPLES = 5;

/** The guard's pieces alone, in this process, before any server runs. */
export async function runMicroSection(options: BenchOptions): Promise<MicroResult[]> {
  const budgetMs = options.microBudgetMs;
  console.log(
    `\n== Micro-benchmarks (in-process, median of ${SAMPLES} samples of ~${budgetMs / SAMPLES} ms)`,
  );
  const now = Date.now();
  const cache = new RevocationCache({ maxEntries: 1_000_000 });
  const revoked: CheckedClaims[] = [];
  for (let i = 0; i < CACHE_ENTRIES; i++) {
    const jti = randomJti();
    cache.add({ kind: 'token', id: jti, expiresAtMs: now + 3600_000, createdAtMs: now }, now);
    if (i % 100 === 0) revoked.push({ jti, sub: `user-${i}`, iatMs: now - 1000 });
  }
  const valid: CheckedClaims[] = Array.from({ length: 1000 }, (_, i) => ({
    jti: randomJti(),
    sub: `user-${i}`,
    iatMs: now - 1000,
  }));

  const secret = 'bench-secret-0123456789abcdef0123456789abcdef';
  const key = createSecretKey(Buffer.from(secret));
  const resolved = resolveRevocationOptions(
    { redis: 'redis://unused', jwtSecret: secret },
    'micro',
  );
  const tokens = new TokenService(resolved, resolved.clock);
  const uncached = new TokenService({ ...resolved, verifiedTokenCacheMax: 0 }, resolved.clock);
  const token = tokens.sign('user-1', { username: 'bench' }).token;
  const headers = { authorization: `Bearer ${token}` };

  let sink = 0;
  const results: MicroResult[] = [];
  const run = (name: string, op: (i: number) => unknown): void => {
    const nsPerOp = measure(op, budgetMs, (value) => {
      if (value) sink++;
    });
    results.push({ name, nsPerOp });
    console.log(
      `   ${name.padEnd(58)}${formatFixed(nsPerOp, nsPerOp < 1000 ? 1 : 0).padStart(10)} ns/op${formatInt(1e9 / nsPerOp).padStart(14)} ops/s`,
    );
  };

  run(`RevocationCache.check, hit (${formatInt(CACHE_ENTRIES)} entries)`, (i) =>
    cache.check(revoked[i % revoked.length] as CheckedClaims, now),
  );
  run(`RevocationCache.check, miss (${formatInt(CACHE_ENTRIES)} entries)`, (i) =>
    cache.check(valid[i % valid.length] as CheckedClaims, now),
  );
  // Tokens issued with a session carry a sid: one more map lookup on a miss.
  const inSessions = valid.map((claims, i) => ({ ...claims, sid: `sid-${i}` }));
  run(`RevocationCache.check, miss with a sid (${formatInt(CACHE_ENTRIES)} entries)`, (i) =>
    cache.check(inSessions[i % inSessions.length] as CheckedClaims, now),
  );
  run('jsonwebtoken.verify, HS256, string secret', () =>
    jwt.verify(token, secret, { algorithms: ['HS256'] }),
  );
  run('jsonwebtoken.verify, HS256, crypto KeyObject', () =>
    jwt.verify(token, key, { algorithms: ['HS256'] }),
  );
  run('TokenService.verify, first sight (KeyObject)', () => uncached.verify(token));
  run('TokenService.verify, token seen before', () => tokens.verify(token));
  run('guard path: extractBearerToken + verify + cache.check', (i) => {
    const claims = tokens.verify(extractBearerToken(headers) as string) as CheckedClaims;
    return cache.check({ ...claims, jti: (valid[i % valid.length] as CheckedClaims).jti }, now);
  });
  // A login's cost: one Argon2id verification at the default PASSWORD_HASH_COST, with the API's
  // t = 2, p = 1 (README, "Login capacity"), on this thread: its inverse is logins/s per core.
  const argon2 = {
    algorithm: Algorithm.Argon2id,
    memoryCost: PASSWORD_HASH_MIN_PRODUCTION_COST,
    timeCost: 2,
    parallelism: 1,
  };
  const stored = hashSync('bench-password-1', argon2);
  run(LOGIN_VERIFY, () => verifySync(stored, 'bench-password-1'));
  if (sink < 0) console.log(sink);
  return results;
}

/** Median ns/op over {@link SAMPLES} timed batches, after a warm-up; batch size calibrated. */
function measure(
  op: (i: number) => unknown,
  budgetMs: number,
  consume: (value: unknown) => void,
): number {
  let i = 0;
  // Warm-up and calibration: how many ops fit in a sample.
  const warmUntil = performance.now() + Math.max(50, budgetMs / 4);
  let warmOps = 0;
  const warmStart = performance.now();
  while (performance.now() < warmUntil) {
    for (let k = 0; k < 16; k++) consume(op(i++));
    warmOps += 16;
  }
  const nsPerOpGuess = ((performance.now() - warmStart) * 1e6) / warmOps;
  const batch = Math.max(16, Math.floor(((budgetMs / SAMPLES) * 1e6) / nsPerOpGuess));
  const samples: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < batch; k++) consume(op(i++));
    samples.push(Number(process.hrtime.bigint() - start) / batch);
  }
  return median(samples);
}
