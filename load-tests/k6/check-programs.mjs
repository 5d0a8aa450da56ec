// Checks that every k6 scenario is a valid k6 program: only `k6/*` and relative imports (k6 has
// no Node APIs), an `options` export with thresholds, and a header saying what it proves and how
// to run it. Prints one closing line `N passed, N failed`.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const files = [
  ...readdirSync(here).filter((f) => f.endsWith('.ts')),
  ...readdirSync(join(here, 'lib')).map((f) => join('lib', f)),
];
let passed = 0;
let failed = 0;
for (const file of files) {
  const text = readFileSync(join(here, file), 'utf8');
  const problems = [];
  for (const [, spec] of text.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
    if (!spec.startsWith('k6') && !spec.startsWith('./') && !spec.startsWith('../')) {
      problems.push(`imports "${spec}" (k6 programs may import only k6/* and relative modules)`);
    }
  }
  if (/\b(require\(|process\.|Buffer\.)/.test(text)) problems.push('uses a Node API');
  if (!file.startsWith('lib')) {
    if (!/export const options/.test(text)) problems.push('has no `export const options`');
    if (!/thresholds:/.test(text)) problems.push('has no thresholds');
    if (!new RegExp(`k6 run load-tests/k6/${file}`).test(text))
      problems.push('header lacks its run command');
  }
  if (problems.length === 0) passed++;
  else {
    failed++;
    for (const problem of problems) console.error(`${file}: ${problem}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
