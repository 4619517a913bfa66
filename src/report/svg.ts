// Charts as SVG strings, drawn by hand: no library, no network, nothing but the page itself.

import { htmlText } from '../escape.js';

/** Text escaped for HTML and SVG: escape.ts's rule for HTML, under the name the report's writers use. */
export const esc = htmlText;

export interface Series {
  readonly name: string;
  /** null (a number JSON could not hold) and NaN leave a gap. */
  readonly values: readonly (number | null)[];
  readonly color: string;
}

const niceTicks = (lo: number, hi: number, n = 5): number[] => {
  if (hi === lo) return [lo];
  const step0 = (hi - lo) / n,
    mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
};

/**
 * Ticks on a log axis (`lo`, `hi` are log10 values): 1, 2, 5 times each power of ten inside it (just the powers over
 * many decades).
 */
const logTicks = (lo: number, hi: number): number[] => {
  const steps = hi - lo > 3 ? [1] : [1, 2, 5];
  const out: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++)
    for (const m of steps) {
      const v = m * 10 ** e;
      if (Math.log10(v) >= lo - 1e-9 && Math.log10(v) <= hi + 1e-9) out.push(+v.toPrecision(6));
    }
  return out.length ? out : [10 ** lo];
};

const fmt = (v: number) =>
  Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(3));

/**
 * Tick labels with as many decimals as the step between ticks needs, so that no two read the same (0.995, 1, 1.005
 * rather than 0.995, 1, 1): three significant digits alone would round a fine step away.
 */
function tickLabels(ticks: readonly number[], log: boolean | undefined): string[] {
  if (log || ticks.length < 2) return ticks.map(fmt);
  const step = Math.min(
    ...ticks
      .slice(1)
      .map((t, i) => Math.abs(t - ticks[i]!))
      .filter((d) => d > 0),
  );
  const decimals = Math.min(8, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
  const labels = ticks.map((t) => (Math.abs(t) >= 1000 ? fmt(t) : String(+t.toFixed(decimals))));
  return new Set(labels).size === labels.length ? labels : ticks.map((t) => t.toFixed(decimals));
}

/** The (transformed) range the values span, widened where it is empty or a single value. */
function valueRange(series: readonly Series[], tr: (v: number) => number): [number, number] {
  const all = series
    .flatMap((s) => s.values)
    .filter((v): v is number => v !== null && Number.isFinite(v))
    .map(tr);
  if (!all.length) return [0, 1];
  const lo = Math.min(...all),
    hi = Math.max(...all);
  const pad = lo === hi ? Math.abs(lo) * 0.5 || 0.5 : 0;
  return [lo - pad, hi + pad];
}

/** A line chart over epochs; `breaks` are epoch indices where a new stage starts. */
export function lineChart(opts: {
  title: string;
  series: readonly Series[];
  breaks?: readonly number[];
  log?: boolean;
  width?: number;
  height?: number;
  mark?: { readonly index: number; readonly label: string };
}): string {
  const W = opts.width ?? 560,
    H = opts.height ?? 260,
    L = 56,
    R = 16,
    T = 34,
    B = 34;
  const n = Math.max(...opts.series.map((s) => s.values.length), 1);
  const tr = (v: number) => (opts.log ? Math.log10(Math.max(v, 1e-12)) : v);
  const [lo, hi] = valueRange(opts.series, tr);
  const x = (i: number) => L + (n === 1 ? (W - L - R) / 2 : (i / (n - 1)) * (W - L - R));
  const y = (v: number) => T + (1 - (tr(v) - lo) / (hi - lo)) * (H - T - B);
  // Width 100%: the chart scales with its column instead of filling half the page at a fixed size.
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMidYMid ` +
      `meet" role="img" aria-label="${esc(opts.title)}">`,
  ];
  parts.push(`<text x="${L}" y="18" class="title">${esc(opts.title)}</text>`);
  const ticks = opts.log ? logTicks(lo, hi) : niceTicks(lo, hi);
  const labels = tickLabels(ticks, opts.log);
  for (const [i, t] of ticks.entries()) {
    const yy = y(t);
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${yy}" y2="${yy}" class="grid"/><text x="${L - 6}" y="${yy + 4}" ` +
        `class="tick" text-anchor="end">${labels[i]}</text>`,
    );
  }
  const step = Math.max(1, Math.ceil(n / 10));
  for (let i = 0; i < n; i += step)
    parts.push(`<text x="${x(i)}" y="${H - B + 16}" class="tick" text-anchor="middle">${i + 1}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 4}" class="tick" text-anchor="middle">epoch</text>`);
  for (const b of opts.breaks ?? []) {
    const xx = x(b) - (n > 1 ? (W - L - R) / (n - 1) / 2 : 0);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${T}" y2="${H - B}" class="break"/>`);
  }
  for (const s of opts.series) {
    const pts = s.values
      .map((v, i) => (v !== null && Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : null))
      .filter(Boolean);
    if (pts.length > 1)
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const p of pts)
      parts.push(`<circle cx="${p!.split(',')[0]}" cy="${p!.split(',')[1]}" r="2.5" fill="${s.color}"/>`);
  }
  if (opts.mark && opts.mark.index < n) {
    // The best epoch: a vertical marker with its label, so the kept model is visible on every curve.
    const xx = x(opts.mark.index);
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${T}" y2="${H - B}" class="best"/><text x="${xx + 4}" y="${T + 10}" ` +
        `class="tick best-label">${esc(opts.mark.label)}</text>`,
    );
  }
  // The legend, top right.
  for (const [i, s] of opts.series.entries())
    parts.push(
      `<rect x="${W - R - 150}" y="${8 + i * 14}" width="10" height="3" fill="${s.color}"/><text ` +
        `x="${W - R - 136}" y="${13 + i * 14}" class="tick">${esc(s.name)}</text>`,
    );
  parts.push('</svg>');
  return parts.join('');
}

/** The confusion matrix as a heat map: colour by row share (recall), the count in each cell. */
export function heatMap(classes: readonly string[], m: readonly (readonly number[])[]): string {
  const k = classes.length,
    cell = Math.max(22, Math.min(56, Math.floor(480 / k))),
    left = 8 + Math.min(140, 7 * Math.max(...classes.map((c) => c.length))),
    top = 30 + Math.min(120, 6 * Math.max(...classes.map((c) => c.length)));
  const W = left + k * cell + 10,
    H = top + k * cell + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" ` +
      `aria-label="confusion matrix">`,
  ];
  classes.forEach((c, j) => {
    parts.push(
      `<text transform="translate(${left + j * cell + cell / 2 + 4},${top - 6}) rotate(-60)" ` +
        `class="tick">${esc(c)}</text>`,
    );
  });
  m.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    parts.push(
      `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" class="tick" ` +
        `text-anchor="end">${esc(classes[i]!)}</text>`,
    );
    row.forEach((v, j) => {
      const share = v / total;
      const hue = i === j ? 140 : 0;
      const fill = v === 0 ? '#f7f7f7' : `hsl(${hue}, 60%, ${Math.round(95 - share * 55)}%)`;
      parts.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 1}" height="${cell - 1}" ` +
          `fill="${fill}"><title>${esc(classes[i]!)} → ${esc(classes[j]!)}: ${v}</title></rect>`,
      );
      if (v)
        parts.push(
          `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" class="cell" ` +
            `text-anchor="middle">${v}</text>`,
        );
    });
  });
  parts.push(`<text x="${left + (k * cell) / 2}" y="${H - 8}" class="tick" text-anchor="middle">predicted</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** The learning-rate range test: the smoothed loss against the rate (log axis), the suggestion marked. */
export function lrChart(c: {
  lrs: readonly number[];
  smoothed: readonly number[];
  suggestion: number;
  rule: string;
  title: string;
}): string {
  const W = 560,
    H = 280,
    L = 56,
    R = 16,
    T = 34,
    B = 40;
  const pts = c.lrs.map((lr, i) => [Math.log10(lr), c.smoothed[i]!] as const).filter(([, v]) => Number.isFinite(v));
  const x0 = pts[0]![0],
    x1 = pts[pts.length - 1]![0];
  const ys = pts.map(([, v]) => v),
    lo = Math.min(...ys),
    hi = Math.min(Math.max(...ys), lo + 4 * (ys[0]! - lo || 1));
  const X = (v: number) => L + ((v - x0) / (x1 - x0 || 1)) * (W - L - R),
    Y = (v: number) => T + (1 - (Math.min(v, hi) - lo) / (hi - lo || 1)) * (H - T - B);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" ` +
      `aria-label="${esc(c.title)}">`,
    '<style>text{font:11px sans-serif;fill:#333}.tick{fill:#666}</style>',
    `<text x="${L}" y="18" font-weight="bold">${esc(c.title)}</text>`,
  ];
  for (const t of logTicks(x0, x1))
    out.push(
      `<line x1="${X(Math.log10(t))}" x2="${X(Math.log10(t))}" y1="${T}" y2="${H - B}" stroke="#eee"/><text ` +
        `class="tick" x="${X(Math.log10(t))}" y="${H - B + 14}" text-anchor="middle">${fmt(t)}</text>`,
    );
  for (const t of niceTicks(lo, hi))
    out.push(
      `<line x1="${L}" x2="${W - R}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/><text class="tick" x="${L - 6}" ` +
        `y="${Y(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    );
  out.push(
    `<polyline fill="none" stroke="#1f77b4" stroke-width="1.6" ` +
      `points="${pts.map(([x, v]) => `${X(x).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')}"/>`,
  );
  const s = X(Math.log10(c.suggestion));
  out.push(
    `<line x1="${s}" x2="${s}" y1="${T}" y2="${H - B}" stroke="#d62728" stroke-dasharray="4 3"/><text ` +
      `x="${s + 4}" y="${T + 12}" fill="#d62728">suggested ${fmt(c.suggestion)}</text>`,
  );
  out.push(
    `<text class="tick" x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">learning rate (log scale) · ` +
      `smoothed training loss · ${esc(c.rule)}</text>`,
    '</svg>',
  );
  return out.join('\n');
}

/** A point of a scatter chart: x, y, its label, and whether it is marked (the best). */
export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  readonly label: string;
  /** The longer text shown on hover (the label when absent). */
  readonly title?: string;
  readonly marked?: boolean;
}

/** A scatter chart, x on a log axis (parameters and seconds span decades), each point labelled. */
export function scatterChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  points: readonly ScatterPoint[];
  xFormat?: (v: number) => string;
}): string {
  const W = 560,
    H = 300,
    L = 56,
    R = 24,
    T = 34,
    B = 40;
  const pts = opts.points.filter((p) => p.x > 0 && Number.isFinite(p.y));
  const xs = pts.map((p) => Math.log10(p.x)),
    ys = pts.map((p) => p.y);
  let [xlo, xhi] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [ylo, yhi] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (xhi - xlo < 0.2) [xlo, xhi] = [xlo - 0.1, xhi + 0.1];
  if (yhi - ylo < 0.02) [ylo, yhi] = [ylo - 0.01, yhi + 0.01];
  const xpad = (xhi - xlo) * 0.06,
    ypad = (yhi - ylo) * 0.1;
  [xlo, xhi, ylo, yhi] = [xlo - xpad, xhi + xpad, ylo - ypad, yhi + ypad];
  const px = (v: number) => L + ((Math.log10(v) - xlo) / (xhi - xlo)) * (W - L - R);
  const py = (v: number) => T + (1 - (v - ylo) / (yhi - ylo)) * (H - T - B);
  const xf = opts.xFormat ?? fmt;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMidYMid ` +
      `meet" role="img" aria-label="${esc(opts.title)}">`,
    `<text x="${L}" y="18" class="title">${esc(opts.title)}</text>`,
  ];
  const yticks = niceTicks(ylo, yhi),
    ylabels = tickLabels(yticks, false);
  for (const [i, t] of yticks.entries())
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${py(t)}" y2="${py(t)}" class="grid"/><text x="${L - 6}" y="${py(t) + 4}" ` +
        `class="tick" text-anchor="end">${ylabels[i]}</text>`,
    );
  // Under a decade, 1-2-5 ticks are too sparse: plain nice ticks inside the range.
  const xticks = xhi - xlo < 1 ? niceTicks(10 ** xlo, 10 ** xhi).filter((t) => t > 0) : logTicks(xlo, xhi);
  for (const t of xticks)
    parts.push(`<text x="${px(t)}" y="${H - B + 16}" class="tick" text-anchor="middle">${esc(xf(t))}</text>`);
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 6}" class="tick" text-anchor="middle">${esc(opts.xLabel)} (log)</text>`,
    `<text x="12" y="${(T + H - B) / 2}" class="tick" text-anchor="middle" transform="rotate(-90 12 ` +
      `${(T + H - B) / 2})">${esc(opts.yLabel)}</text>`,
  );
  // Labels go right of their point (left of it in the right half), moved down past labels already placed.
  const placed: { x0: number; x1: number; y: number }[] = [];
  for (const p of pts) {
    const cx = px(p.x),
      cy = py(p.y),
      w = p.label.length * 6,
      left = cx > (L + W - R) / 2;
    const x0 = left ? cx - 8 - w : cx + 8;
    let y = cy + 4;
    while (placed.some((b) => Math.abs(b.y - y) < 12 && b.x0 < x0 + w && x0 < b.x1)) y += 12;
    placed.push({ x0, x1: x0 + w, y });
    parts.push(
      `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${p.marked ? 6 : 4}" ` +
        `fill="${p.marked ? '#e8590c' : '#1c7ed6'}">` +
        `<title>${esc(p.title ?? p.label)}</title></circle><text x="${(left ? cx - 8 : cx + 8).toFixed(1)}" ` +
        `y="${y.toFixed(1)}" class="tick"${left ? ' text-anchor="end"' : ''}>${esc(p.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
