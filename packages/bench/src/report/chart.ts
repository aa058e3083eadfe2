import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { BenchResults } from '../results.js';

/**
 * Draws throughput of each commit strategy, relative to the raw limit, for both synchronous modes,
 * as an SVG (Vega-Lite, rendered headless).
 */
export async function throughputChartSvg(r: BenchResults): Promise<string> {
  const values = r.strategies
    .filter((s) => s.ratioToLimit !== undefined && !s.name.includes('paced'))
    .map((s) => ({ strategy: s.name, synchronous: `synchronous ${s.synchronous}`, ratio: Number(s.ratioToLimit!.toFixed(3)), opsPerSec: Math.round(s.opsPerSec) }));
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Throughput relative to the raw limit (1 transaction per 1000 rows)', subtitle: `${r.machine.cores} cores, ${r.machine.cpus}, node ${r.machine.node}, SQLite ${r.machine.sqlite}` },
    data: { values },
    facet: { row: { field: 'synchronous', type: 'nominal', title: null } },
    spec: {
      width: 520,
      height: { step: 22 },
      layer: [
        {
          mark: 'bar',
          encoding: {
            y: { field: 'strategy', type: 'nominal', sort: null, title: null, axis: { labelLimit: 420 } },
            x: { field: 'ratio', type: 'quantitative', title: 'ops/s ÷ raw limit (log scale)', scale: { type: 'log', domain: [0.001, 2], nice: false } },
            // A log scale has no zero: bars start at the left edge of the domain.
            x2: { datum: 0.001 },
            color: { field: 'strategy', type: 'nominal', legend: null },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 4 },
          encoding: {
            y: { field: 'strategy', type: 'nominal', sort: null },
            x: { field: 'ratio', type: 'quantitative' },
            text: { field: 'opsPerSec', type: 'quantitative', format: ',' },
          },
        },
      ],
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
