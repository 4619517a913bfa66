import { formatLr } from './numbers.js';

// The learning-rate range test in a terminal: the smoothed loss against the rate on a log axis,
// the suggested rate marked with a column of `|`.

/** Rows of text: a `height` x `width` plot with the loss on the left and decades of the rate below. */
export function lrChartText(
  c: { lrs: readonly number[]; smoothed: readonly number[]; suggestion: number },
  width = 60,
  height = 12,
): string[] {
  const pts = c.lrs.map((lr, i) => [Math.log10(lr), c.smoothed[i]!] as const).filter(([, v]) => Number.isFinite(v));
  const x0 = pts[0]![0],
    x1 = pts[pts.length - 1]![0];
  const ys = pts.map(([, v]) => v),
    lo = Math.min(...ys),
    hi = Math.min(Math.max(...ys), lo + 4 * (ys[0]! - lo || 1));
  const col = (x: number) => Math.round(((x - x0) / (x1 - x0 || 1)) * (width - 1));
  const row = (v: number) => Math.round((1 - (Math.min(v, hi) - lo) / (hi - lo || 1)) * (height - 1));
  const grid = Array.from({ length: height }, () => Array<string>(width).fill(' '));
  const mark = col(Math.log10(c.suggestion));
  if (mark >= 0 && mark < width) for (const r of grid) r[mark] = '|';
  for (const [x, v] of pts) grid[row(v)]![col(x)] = '•';
  const label = (v: number) => v.toPrecision(3).padStart(8);
  const lines = grid.map(
    (r, i) => `${i === 0 ? label(hi) : i === height - 1 ? label(lo) : ' '.repeat(8)} ┤${r.join('')}`,
  );
  const axis = Array<string>(width).fill(' ');
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    const text = formatLr(10 ** e),
      at = col(e);
    if (at + text.length <= width && axis.slice(Math.max(0, at - 1), at + text.length + 1).every((ch) => ch === ' '))
      text.split('').forEach((ch, i) => {
        axis[at + i] = ch;
      });
  }
  return [...lines, `${' '.repeat(8)} └${'─'.repeat(width)}`, `${' '.repeat(10)}${axis.join('')}`];
}
