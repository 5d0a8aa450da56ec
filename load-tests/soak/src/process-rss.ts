import { readFileSync } from 'node:fs';

/** Resident set size of a process in MiB, from `/proc/<pid>/status` (VmRSS); NaN when unreadable. */
export function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? Number.NaN : Number(match[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}
