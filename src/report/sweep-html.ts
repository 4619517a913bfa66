import * as path from 'node:path';
import type { SweepRecord } from '../runtime/sweep-folder.js';
import { writeFileAtomic } from '../files/atomic.js';
import { fmtInt } from '../text/numbers.js';
import { esc, scatterChart } from './svg.js';
import { bestVariant, sweepPivot, sweepRows } from './sweep-table.js';

// A sweep's report.html: the seed's table (variants as rows, the varied values as columns, the best
// marked), one pivot per pair of varied values, and test accuracy against trainable parameters and
// against time, the article's two plots. One self-contained page, no network.

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1280px;
  color:#212529;padding:0 16px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:16px;margin:22px 0 8px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px}
svg .title{font-weight:600;font-size:13px}svg .tick{font-size:11px;fill:#495057}svg .grid{stroke:#e9ecef}
table{border-collapse:collapse;font-size:13px}td,th{padding:4px 8px;border-bottom:1px solid #e9ecef;text-align:left}
th{background:#f1f3f5}tr.best td{font-weight:600;background:#fff4e6}.muted{color:#868e96}`;

/** A table whose first row is its head; rows that `best` picks are marked. */
export const htmlTable = (rows: readonly (readonly string[])[], best = (_r: readonly string[]) => false): string => {
  const [head, ...body] = rows;
  return (
    `<table><tr>${head!.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>` +
    body
      .map((r) => `<tr${best(r) ? ' class="best"' : ''}>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
      .join('') +
    '</table>'
  );
};

/** Every pair of varied values, each once (rows, columns). */
const pairs = (slots: readonly string[]): [string, string][] =>
  slots.flatMap((a, i) => slots.slice(i + 1).map((b) => [a, b] as [string, string]));

/** The page. */
export function sweepPage(dir: string, record: SweepRecord): string {
  const best = bestVariant(record);
  const done = record.variants.filter((v) => v.evaluation);
  const point = (x: number) => (v: (typeof done)[number]) => ({
    x,
    y: v.evaluation!.accuracy,
    label: v.id,
    title: `${v.id}: ${v.name}`,
    marked: v === best,
  });
  const split = done[0]?.evaluation?.split ?? 'test';
  const charts = done.length
    ? [
        scatterChart({
          title: `${split} accuracy against trainable parameters`,
          xLabel: 'trainable parameters',
          yLabel: `${split} accuracy`,
          points: done.map((v) => point(v.trainableParams)(v)),
          xFormat: (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n)),
        }),
        scatterChart({
          title: `${split} accuracy against time`,
          xLabel: 'seconds',
          yLabel: `${split} accuracy`,
          points: done.filter((v) => v.seconds).map((v) => point(v.seconds!)(v)),
        }),
      ]
    : [];
  const slots = record.groups.map((g) => g.slot);
  const pivots = pairs(slots).map(([a, b]) => `<h2>${esc(a)} × ${esc(b)}</h2>${htmlTable(sweepPivot(record, a, b))}`);
  const line = best
    ? `Best (*): ${esc(best.id)} (${esc(best.name)}), ${(best.evaluation!.accuracy * 100).toFixed(2)}% on the ` +
      `${best.evaluation!.split} split, ${fmtInt(best.trainableParams)} trainable parameters.`
    : 'No variant has finished yet.';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tlr sweep · ${esc(path.basename(dir))}</title>
<style>${CSS}</style></head><body>
<h1>Sweep of ${esc(record.recipe.file)}: ${record.variants.length} variants</h1>
<p>${line}${
    record.keep
      ? ` Variants were screened by validation accuracy after ${record.keep.after} epochs ` +
        `(keep best ${record.keep.best}).`
      : ''
  }</p>
<div class="charts">${charts.join('')}</div>
<h2>Variants</h2>${htmlTable(sweepRows(record), (r) => r[0] === '*')}
${pivots.join('\n')}
<p class="muted">Written by tlr from ${esc(path.join(dir, 'sweep.json'))}.</p>
</body></html>
`;
}

/** Writes the sweep's report.html (atomically); returns its path. */
export function writeSweepReport(dir: string, record: SweepRecord): string {
  const file = path.join(dir, 'report.html');
  writeFileAtomic(file, sweepPage(dir, record));
  return file;
}
