import * as path from 'node:path';
import { esc, lineChart } from './svg.js';
import { readContractLines } from '../contracts/read.js';

// compare.html: the runs of a comparison on one self-contained page (inline CSS and SVG, nothing
// fetched): their validation curves overlaid, and the table.

const COLORS = [
  '#1c7ed6',
  '#d9480f',
  '#2b8a3e',
  '#7048e8',
  '#e8590c',
  '#0c8599',
  '#c2255c',
  '#5c940d',
  '#495057',
  '#f08c00',
];

/**
 * The page for runs in `dirs` (their metrics.jsonl), named by `names`, with `table` (header row
 * first) below the curves.
 */
export function compareHtml(
  dirs: readonly string[],
  names: readonly string[],
  table: readonly (readonly string[])[],
): string {
  const metrics = dirs.map((d) => readContractLines('metrics', path.join(d, 'metrics.jsonl')));
  // In the charts each run is its number; the legend below names them in full.
  const series = (key: 'val_loss' | 'val_accuracy') =>
    metrics.map((rows, i) => ({
      name: `${i + 1}`,
      values: rows.map((r) => r[key] ?? NaN),
      color: COLORS[i % COLORS.length]!,
    }));
  const legend = names
    .map(
      (n, i) =>
        `<li><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${i + 1} · ${esc(n)}</li>`,
    )
    .join('');
  const charts = [
    lineChart({ title: 'val_accuracy', series: series('val_accuracy') }),
    lineChart({ title: 'val_loss', series: series('val_loss') }),
  ];
  const [head, ...body] = table;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tlr compare · ${dirs.length} runs</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1280px;
  color:#212529;padding:0 16px}
h1{font-size:22px;margin:0 0 12px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px}
svg .title{font-weight:600;font-size:13px}
svg .tick{font-size:11px;fill:#495057}
svg .grid{stroke:#e9ecef}
table{border-collapse:collapse;margin-top:18px;font-size:13px}
td,th{padding:4px 8px;border-bottom:1px solid #e9ecef;text-align:left;white-space:nowrap}
th{background:#f1f3f5}
.scroll{overflow-x:auto}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px 18px}
.swatch{display:inline-block;width:12px;height:4px;margin-right:6px;vertical-align:middle}
</style></head><body>
<h1>${dirs.length} runs compared</h1>
<div class="charts">${charts.join('')}</div>
<ul class="legend">${legend}</ul>
<div class="scroll"><table><thead><tr>${head!.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table></div>
</body></html>
`;
}
