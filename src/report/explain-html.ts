import { fmtInt } from '../review/phrases.js';
import type { BlockCell, Explained, Part } from '../review/explain.js';
import { esc } from './svg.js';

// `tlr explain --html` and report.html's "What was run": the explained recipe as HTML with inline
// CSS only (it opens from disk with no network). A stage's blocks are coloured boxes in a row,
// the same states the Markdown's Mermaid diagrams colour.

const COLORS: Record<BlockCell['state'], [fill: string, stroke: string]> = {
  frozen: ['#dbeafe', '#1e40af'],
  trained: ['#fef3c7', '#b45309'],
  split: ['#fde68a', '#1e40af'],
  head: ['#dcfce7', '#15803d'],
};

export const EXPLAIN_CSS = `.tlr-explain .blocks{display:flex;flex-wrap:wrap;gap:4px;align-items:stretch;margin:8px 0}
.tlr-explain .block{border:1px solid;border-radius:4px;padding:4px 6px;font-size:12px;line-height:1.3}
.tlr-explain .legend span{display:inline-block;width:10px;height:10px;border:1px solid;margin:0 4px 0 10px}
.tlr-explain table{border-collapse:collapse}
.tlr-explain td,.tlr-explain th{border:1px solid #ccc;padding:2px 8px;text-align:right}
.tlr-explain td:first-child,.tlr-explain th:first-child{text-align:left}`;

function cellHtml(c: BlockCell): string {
  const [fill, stroke] = COLORS[c.state];
  const dash = c.state === 'split' ? 'border-style:dashed;' : '';
  const sub = c.through ? `<br>frozen through ${esc(c.through)}` : '';
  return (
    `<div class="block" style="background:${fill};border-color:${stroke};${dash}" title="${c.state}">` +
    `<b>${esc(c.name)}</b><br>${fmtInt(c.params)} params${sub}</div>`
  );
}

function partHtml(p: Part): string {
  switch (p.kind) {
    case 'text':
      return `<p>${esc(p.text)}</p>`;
    case 'table':
      return (
        `<table><tr>${p.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>` +
        `${p.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`
      );
    case 'blocks': {
      const legend = (Object.keys(COLORS) as BlockCell['state'][])
        .filter((s) => p.cells.some((c) => c.state === s))
        .map((s) => `<span style="background:${COLORS[s][0]};border-color:${COLORS[s][1]}"></span>${s}`)
        .join('');
      return (
        `<div class="blocks"><div class="block">${esc(p.input)}</div>${p.cells.map(cellHtml).join('')}</div>` +
        `<div class="legend">${legend}</div>`
      );
    }
  }
}

/** The document as a section of a page (headings from `level`). */
export function explainSectionHtml(e: Explained, source: string, level = 2): string {
  const h = (n: number, t: string) => `<h${n}>${esc(t)}</h${n}>`;
  return (
    `<section class="tlr-explain">${h(level, e.title)}<p><code>${esc(source)}</code>: ${esc(e.summary)}</p>` +
    e.sections.map((s) => h(level + 1, s.title) + s.parts.map(partHtml).join('')).join('') +
    `</section>`
  );
}

/** A self-contained `tlr explain` page around `body`. */
export const explainShell = (title: string, body: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)} · tlr explain</title>` +
  `<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em}${EXPLAIN_CSS}</style>` +
  `</head><body>${body}</body></html>\n`;

/** A self-contained page. */
export const explainPage = (e: Explained, source: string): string =>
  explainShell(e.title, explainSectionHtml(e, source, 1));
