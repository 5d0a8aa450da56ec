import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Where a README's TypeScript block is compiled, named by an HTML comment before it
 * (`<!-- snippet: module-app -->`):
 * - `module-app`: a complete `src/main.ts` of a fresh NestJS app using the packed package; compiled
 *   there and run;
 * - `workspace` (the default): code of this repository, compiled against the workspace libraries;
 * - `fragment`: an excerpt that cannot stand alone (say why in the comment); not compiled.
 */
export const SNIPPET_CONTEXTS = ['module-app', 'workspace', 'fragment'] as const;
export type SnippetContext = (typeof SNIPPET_CONTEXTS)[number];

/** A ```ts or ```typescript block of a README, as written. */
export interface Snippet {
  /** The README, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly context: SnippetContext;
  /** The block's lines without the fences and without the indentation of the opening fence. */
  readonly code: string;
}

/** Folders never searched for READMEs: installed, generated or ignored. */
const SKIPPED = new Set(['node_modules', 'dist', 'tmp', 'coverage', '.nx', '.git']);

/** Every README.md of the repository, relative to `root`, sorted. */
export async function readmeFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  async function visit(dir: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name)) await visit(path.join(dir, entry.name));
      } else if (entry.name === 'README.md') {
        found.push(path.relative(root, path.join(dir, entry.name)).split(path.sep).join('/'));
      }
    }
  }
  await visit(root);
  return found.sort();
}

const FENCE_OPEN = /^(\s*)```(ts|typescript)\s*$/;
const CONTEXT_COMMENT = /^\s*<!--\s*snippet:\s*([\w-]+)/;

/** The TypeScript blocks of one README; throws on an unknown context or an unclosed block. */
export function extractSnippets(file: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i] as string);
    if (open === null) continue;
    const indent = open[1] as string;
    // The nearest non-blank line above may name the context.
    let above = i - 1;
    while (above >= 0 && (lines[above] as string).trim() === '') above--;
    const named = above >= 0 ? CONTEXT_COMMENT.exec(lines[above] as string) : null;
    const context = (named?.[1] ?? 'workspace') as SnippetContext;
    if (!SNIPPET_CONTEXTS.includes(context)) {
      throw new Error(`${file}:${above + 1}: unknown snippet context '${context}'`);
    }
    const close = lines.findIndex((line, j) => j > i && line.trim() === '```');
    if (close === -1) throw new Error(`${file}:${i + 1}: the TypeScript block is never closed`);
    const code = lines
      .slice(i + 1, close)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
    snippets.push({ file, line: i + 1, context, code: `${code}\n` });
    i = close;
  }
  return snippets;
}

/** The TypeScript blocks of every README under `root`. */
export async function readmeSnippets(root: string): Promise<Snippet[]> {
  const snippets: Snippet[] = [];
  for (const file of await readmeFiles(root)) {
    const markdown = await fs.readFile(path.join(root, file), 'utf8');
    snippets.push(...extractSnippets(file, markdown));
  }
  return snippets;
}

/** A file name for a snippet: its README's path and line, e.g. `libs-testing-README-md-11.ts`. */
export function snippetFileName(snippet: Snippet): string {
  return `${snippet.file.replace(/[^\w]+/g, '-')}-${snippet.line}.ts`;
}

/** The one line of the ```sh blocks of `markdown` that runs `needle`; throws unless exactly one. */
export function shellCommand(markdown: string, needle: string): string {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
  const lines = blocks.flatMap((block) => block.split('\n')).filter((l) => l.includes(needle));
  if (lines.length !== 1) {
    throw new Error(`expected one shell command running ${needle}, found ${lines.length}`);
  }
  return lines[0] as string;
}
