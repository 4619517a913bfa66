import { expect, it } from 'vitest';
import { lineChart, scatterChart } from '../../src/report/svg.js';

// An axis whose ticks are close together still reads: no two tick labels the same (1.01, 1, 1, 0.995 was one).

const labels = (svg: string) => [...svg.matchAll(/class="tick" text-anchor="end">([^<]*)</g)].map((m) => m[1]);

it('gives every tick of a narrow axis its own label, in line and scatter charts', () => {
  const line = labels(lineChart({ title: 't', series: [{ name: 'a', values: [0.9952, 1, 1.0049], color: '#000' }] }));
  expect(line.length).toBeGreaterThan(2);
  expect(new Set(line).size).toBe(line.length);
  const points = [0.995, 1, 1.005, 1.01].map((y, i) => ({ x: 10 ** i, y, label: `v${i}`, marked: false }));
  const scatter = labels(scatterChart({ title: 's', xLabel: 'x', yLabel: 'y', points }));
  expect(new Set(scatter).size).toBe(scatter.length);
});
