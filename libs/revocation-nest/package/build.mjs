// Builds `@rescind/revocation-nest` as an installable npm package and packs it.
//
//   node libs/revocation-nest/package/build.mjs [--out-dir <dir>]    (npm run pack:revocation-nest)
//
// Compiles revocation-core, revocation-redis and revocation-nest (no specs, no src/testing) with the
// repo's TypeScript into <dir> (default dist/packages/revocation-nest), rewrites the workspace
// aliases to relative paths with tsc-alias, copies the Lua scripts revocation-redis reads at run
// time (ASSETS), checks that every import the output makes is declared,
// writes the ESM entry point (a thin wrapper over the CommonJS build, see ESM_ENTRY), copies LICENSE, writes
// package.json (from manifest.template.json: "<root>" values taken from the root package.json, the
// version from libs/revocation-nest/package.json, the one `nx release version` bumps) and README.md, runs `npm pack` and prints the path of the .tgz: the only line on stdout, progress
// goes to stderr.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const LIBS = ['revocation-core', 'revocation-redis', 'revocation-nest'];
/** Files tsc does not emit that the compiled code reads next to itself (the store's Lua scripts). */
const ASSETS = ['revocation-redis/src/lib/commands'];
const FROM_ROOT = '<root>';
/** The project's own manifest: its version is the package's (docs/releasing.md). */
const SOURCE_MANIFEST = path.join(root, 'libs', 'revocation-nest', 'package.json');
const USAGE_MARKER = /^<!-- build\.mjs puts .* -->$/m;
/** Where the copy of the root README's usage section starts. */
const USAGE_FROM = '### A complete app';
/** The CommonJS entry point, as `main` and the exports map's `require` name it. */
const CJS_ENTRY = 'revocation-nest/src/index.js';
/**
 * The ESM entry point: re-exports the CommonJS build's named exports, so that `import` and
 * `require` share one instance of every class (NestJS injects by class identity; a second, dual
 * ESM build would make `RevocationModule` and `TokenService` from `import` different classes from
 * those of `require`).
 */
const ESM_ENTRY = { js: 'revocation-nest/src/index.mjs', types: 'revocation-nest/src/index.d.mts' };

/** Why the package cannot be built; printed without a stack trace. */
class PackError extends Error {}

function log(message) {
  process.stderr.write(`[pack:revocation-nest] ${message}\n`);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function run(command, args, cwd) {
  // stdout of the tools goes to stderr: this script's stdout is the .tgz path only.
  execFileSync(command, args, { cwd, stdio: ['ignore', 2, 2] });
}

function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(file);
    else yield file;
  }
}

/** Module specifiers of `require()`, `import … from`, `export … from`, `import()` and `import '…'`. */
function specifiers(source) {
  const found = new Set();
  const pattern =
    /(?:\brequire\s*\(\s*|\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;
  for (const match of source.matchAll(pattern)) found.add(match[2]);
  return found;
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isBuiltin(specifier) {
  return specifier.startsWith('node:') || builtinModules.includes(packageName(specifier));
}

/** Whether `child` is `parent` or lies inside it. */
function isWithin(parent, child) {
  const relative = path.relative(parent, child);
  return !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** What a previous build leaves in the output folder, and all it may hold before being emptied. */
const OUTPUT_ENTRIES = new Set([...LIBS, 'package.json', 'README.md', 'LICENSE']);

/** Empties the output folder, refusing any folder that is not a previous build's output. */
function emptyOutDir(outDir) {
  const refuse = (why) => {
    throw new PackError(
      `--out-dir ${outDir} ${why}; choose a folder under dist/ or outside the repo`,
    );
  };
  if (isWithin(outDir, root)) refuse('holds the repository');
  const dist = path.join(root, 'dist');
  if (isWithin(root, outDir) && (!isWithin(dist, outDir) || outDir === dist)) {
    refuse('is in the repository');
  }
  const entries = fs.existsSync(outDir) ? fs.readdirSync(outDir) : [];
  const foreign = entries.filter((entry) => !OUTPUT_ENTRIES.has(entry));
  if (foreign.length > 0) refuse(`holds ${foreign.join(', ')}, not a previous build`);
  fs.rmSync(outDir, { recursive: true, force: true });
}

function compile(outDir) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rescind-pack-'));
  const tsconfig = path.join(tmp, 'tsconfig.json');
  try {
    fs.writeFileSync(
      tsconfig,
      JSON.stringify(
        {
          extends: path.join(root, 'tsconfig.base.json'),
          compilerOptions: {
            // Relative: tsc-alias joins the tsconfig's folder to outDir even when it is absolute.
            outDir: path.relative(tmp, outDir),
            rootDir: path.join(root, 'libs'),
            declaration: true,
            // Maps would point at sources the package does not ship.
            sourceMap: false,
            noEmit: false,
            // `types: ["node"]` is looked up from the tsconfig's folder, a temporary one.
            typeRoots: [path.join(root, 'node_modules', '@types')],
          },
          include: LIBS.map((lib) => path.join(root, 'libs', lib, 'src', '**', '*.ts')),
          exclude: [
            path.join(root, 'libs', '*', 'src', '**', '*.spec.ts'),
            path.join(root, 'libs', '*', 'src', 'testing', '**'),
          ],
          'tsc-alias': { resolveFullPaths: false },
        },
        null,
        2,
      ),
    );
    log(`compiling ${LIBS.join(', ')}`);
    run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], root);
    log('rewriting @rescind/* imports to relative paths');
    run(path.join(root, 'node_modules', '.bin', 'tsc-alias'), ['-p', tsconfig], root);
    for (const asset of ASSETS) {
      log(`copying ${asset}`);
      fs.cpSync(path.join(root, 'libs', asset), path.join(outDir, asset), { recursive: true });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Fails unless the output is exactly the three libs and imports only what the manifest declares. */
function verify(outDir, manifest) {
  const emitted = fs.readdirSync(outDir).sort();
  if (emitted.join() !== [...LIBS].sort().join()) {
    throw new PackError(
      `expected ${LIBS.join(', ')} in ${outDir}, got ${emitted.join(', ')}: ` +
        'a library imports a workspace library the package does not ship',
    );
  }
  const declared = new Set([
    ...Object.keys(manifest.dependencies),
    ...Object.keys(manifest.peerDependencies),
  ]);
  const used = new Set();
  const problems = [];
  for (const file of walk(outDir)) {
    const relative = path.relative(outDir, file);
    if (/\.(spec|test)\.|[\\/]testing[\\/]/.test(relative)) problems.push(`${relative}: test code`);
    if (!/\.(js|d\.ts)$/.test(file)) continue;
    for (const specifier of specifiers(fs.readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        // CommonJS resolution: as is, with an extension, or a folder's index; `.js` names the `.d.ts`.
        const target = path.resolve(path.dirname(file), specifier);
        const candidates = file.endsWith('.d.ts')
          ? [target.replace(/\.js$/, ''), target].flatMap((t) => [`${t}.d.ts`, `${t}/index.d.ts`])
          : [target, `${target}.js`, `${target}/index.js`];
        if (
          !candidates.some((candidate) =>
            fs.statSync(candidate, { throwIfNoEntry: false })?.isFile(),
          )
        ) {
          problems.push(`${relative}: '${specifier}' resolves to no emitted file`);
        }
      } else if (specifier.startsWith('@rescind/')) {
        problems.push(`${relative}: workspace import '${specifier}' was not rewritten`);
      } else if (!isBuiltin(specifier)) {
        const name = packageName(specifier);
        used.add(name);
        if (!declared.has(name))
          problems.push(`${relative}: '${name}' is not a declared dependency`);
      }
    }
  }
  for (const name of Object.keys(manifest.dependencies)) {
    if (!used.has(name)) problems.push(`dependency '${name}' is declared but never imported`);
  }
  if (problems.length > 0)
    throw new PackError(`the package is not self-contained:\n  ${problems.join('\n  ')}`);
}

/** The names the CommonJS entry point exports, asked of Node with the repo's node_modules. */
function exportedNames(outDir) {
  const script = `process.stdout.write(JSON.stringify(Object.keys(require(${JSON.stringify(
    path.join(outDir, CJS_ENTRY),
  )}))))`;
  const output = execFileSync(process.execPath, ['-e', script], {
    cwd: root,
    encoding: 'utf8',
    // The output folder may lie outside the repo, where require() would find no dependencies.
    env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
    stdio: ['ignore', 'pipe', 2],
  });
  return JSON.parse(output).sort();
}

/** Writes the ESM entry point and its declarations next to the CommonJS one. */
function writeEsmEntry(outDir) {
  const names = exportedNames(outDir);
  if (names.length === 0) throw new PackError(`${CJS_ENTRY} exports nothing`);
  const cjs = `./${path.basename(CJS_ENTRY)}`;
  log(`writing ${ESM_ENTRY.js} (${names.length} named exports)`);
  fs.writeFileSync(
    path.join(outDir, ESM_ENTRY.js),
    [
      "// ESM entry point: the CommonJS build's exports, one instance for import and require.",
      `import cjs from '${cjs}';`,
      `export const { ${names.join(', ')} } = cjs;`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(outDir, ESM_ENTRY.types), `export * from '${cjs}';\n`);
}

/** The manifest template with every "<root>" value taken from the root package.json. */
function manifestFor(rootPackage) {
  const template = readJson(path.join(here, 'manifest.template.json'));
  const fill = (value, field, source) => {
    if (value !== FROM_ROOT) return value;
    if (source?.[field] === undefined) {
      throw new PackError(`manifest.template.json: the root package.json has no ${field}`);
    }
    return source[field];
  };
  const manifest = {};
  for (const [field, value] of Object.entries(template)) {
    manifest[field] = fill(value, field, rootPackage);
  }
  for (const field of ['dependencies', 'peerDependencies']) {
    manifest[field] = Object.fromEntries(
      Object.entries(template[field]).map(([name, range]) => [
        name,
        fill(range, name, { ...rootPackage.devDependencies, ...rootPackage.dependencies }),
      ]),
    );
  }
  return manifest;
}

/** The package README: the template with the root README's usage section in it. */
function readme() {
  const rootReadme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = /^## Using `RevocationModule`[^\n]*\n([\s\S]*?)(?=^## )/m.exec(rootReadme);
  if (section === null) {
    throw new PackError('README.md has no "## Using `RevocationModule` …" section to copy');
  }
  // The section's own install steps are a clone's; the template has the package's.
  const usage = section[1].slice(section[1].indexOf(USAGE_FROM));
  if (!usage.startsWith(USAGE_FROM)) {
    throw new PackError(`README.md's usage section has no "${USAGE_FROM}" subsection`);
  }
  const template = fs.readFileSync(path.join(here, 'README.md'), 'utf8');
  if (!USAGE_MARKER.test(template)) throw new PackError(`${here}/README.md lost its usage marker`);
  return template.replace(USAGE_MARKER, () => usage.trim());
}

function pack(outDir) {
  const destination = path.dirname(outDir);
  log(`npm pack into ${destination}`);
  const output = execFileSync(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', destination],
    { cwd: outDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 2] },
  );
  const [result] = JSON.parse(output);
  log(`${result.entryCount} files, ${result.size} bytes packed, ${result.unpackedSize} unpacked`);
  return path.join(destination, result.filename);
}

function main() {
  const { values } = parseArgs({
    options: { 'out-dir': { type: 'string' } },
  });
  const outDir = path.resolve(
    values['out-dir'] ?? path.join(root, 'dist/packages/revocation-nest'),
  );
  const manifest = {
    ...manifestFor(readJson(path.join(root, 'package.json'))),
    version: readJson(SOURCE_MANIFEST).version,
  };

  emptyOutDir(outDir);
  compile(outDir);
  verify(outDir, manifest);
  writeEsmEntry(outDir);
  fs.writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, 'README.md'), readme());
  // The root package's licence ("license" in its package.json), whose text must travel with the code.
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(outDir, 'LICENSE'));
  process.stdout.write(`${pack(outDir)}\n`);
}

try {
  main();
} catch (error) {
  if (error instanceof PackError) {
    log(`error: ${error.message}`);
    process.exitCode = 1;
  } else if (error?.status !== undefined) {
    // A tool failed and has printed why.
    log(`error: ${error.message.split('\n')[0]}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
