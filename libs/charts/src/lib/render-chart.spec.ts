import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderChart, writeChart } from './render-chart';

const BARS = {
  data: {
    values: [
      { strategy: 'local', rps: 9000 },
      { strategy: 'redis', rps: 4000 },
    ],
  },
  mark: 'bar',
  encoding: {
    x: { field: 'strategy', type: 'nominal' },
    y: { field: 'rps', type: 'quantitative', title: 'requests/s' },
  },
} as const;

describe('renderChart', () => {
  it('draws a Vega-Lite specification as a standalone SVG carrying its data and titles', async () => {
    const svg = await renderChart({ ...BARS, title: 'req/s by strategy' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('req/s by strategy');
    expect(svg).toContain('requests/s');
    // one bar per row of data
    expect(
      svg.match(/role-mark.*?marktype-rect|<path aria-label="strategy/g)?.length,
    ).toBeGreaterThan(0);
    expect(svg).toContain('strategy: local');
    expect(svg).toContain('strategy: redis');
  });

  it('refuses a specification that Vega-Lite warns about, naming the problem', async () => {
    const misspelt = { ...BARS, encoding: { ...BARS.encoding, colour: { field: 'strategy' } } };
    await expect(renderChart(misspelt as never)).rejects.toThrow(/refused by Vega-Lite: .*colour/);
    const wrongType = {
      ...BARS,
      encoding: { ...BARS.encoding, y: { field: 'rps', type: 'nonsense' } },
    };
    await expect(renderChart(wrongType as never)).rejects.toThrow(
      /refused by Vega-Lite: .*field type/,
    );
  });

  it('writes the SVG to a file, creating its directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'charts-'));
    try {
      const path = await writeChart(join(dir, 'nested', 'chart.svg'), BARS);
      const text = await readFile(path, 'utf8');
      expect(text.startsWith('<svg')).toBe(true);
      expect(text.endsWith('</svg>\n')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
