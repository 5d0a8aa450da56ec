import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { type HistoryEntry } from './history-entry';

/** Reads a history file written by {@link HistoryLog}; throws naming the first unreadable line. */
export async function readHistory(path: string): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  const lines = readline.createInterface({
    input: fs.createReadStream(path, 'utf8'),
    crlfDelay: Infinity,
  });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line) as HistoryEntry);
    } catch (error) {
      throw new Error(`${path}:${number}: not a JSON line (${(error as Error).message})`);
    }
  }
  return entries;
}
