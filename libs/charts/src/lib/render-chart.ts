import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

/** A Vega-Lite specification, as the bench and the scale runs write them. */
export type ChartSpec = TopLevelSpec;

type VegaSpec = ReturnType<typeof compile>['spec'];
type Logger = NonNullable<NonNullable<Parameters<typeof compile>[1]>['logger']>;

/** Shared look: white background, sans-serif text, no frame around the plot. */
const DEFAULTS = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  background: 'white',
  config: { font: 'sans-serif', view: { stroke: 'transparent' } },
} as const;

/**
 * Compiles to Vega, refusing any specification Vega-Lite warns about (a misspelt channel, a wrong
 * field type): a chart silently drawn without them would mislead.
 */
function compileStrict(spec: ChartSpec): VegaSpec {
  const problems: string[] = [];
  const record = (...args: readonly unknown[]): Logger => {
    problems.push(args.map(String).join(' '));
    return logger;
  };
  let level = 0;
  const logger = {
    level: (next?: number) => (next === undefined ? level : ((level = next), logger)),
    error: record,
    warn: record,
    info: () => logger,
    debug: () => logger,
  } as unknown as Logger;
  let compiled: VegaSpec | undefined;
  try {
    compiled = compile({ ...DEFAULTS, ...spec } as TopLevelSpec, { logger }).spec;
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (compiled === undefined || problems.length > 0) {
    throw new Error(`chart specification refused by Vega-Lite: ${problems.join('; ')}`);
  }
  return compiled;
}

/**
 * Renders a Vega-Lite specification to a standalone SVG string, headless: Vega's SVG renderer
 * needs no canvas or browser (text widths are estimated).
 */
export async function renderChart(spec: ChartSpec): Promise<string> {
  const view = new View(parse(compileStrict(spec)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders `spec` and writes it to `path` (directories created); returns the path. */
export async function writeChart(path: string, spec: ChartSpec): Promise<string> {
  const svg = await renderChart(spec);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, svg.endsWith('\n') ? svg : `${svg}\n`);
  return path;
}
