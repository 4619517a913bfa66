// Tables as aligned text columns and as Markdown: compare and sweeps print them. Cells may hold names from a recipe
// or a data folder: escaped for a terminal (printable) and for Markdown (markdownText) here, once for every table.
import { markdownText, printable } from '../escape.js';

/** Rows as aligned text columns. */
export function table(cells: readonly (readonly string[])[]): string {
  const rows = cells.map((r) => r.map(printable));
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Rows as a Markdown table (the first row is the header). */
export const markdown = (cells: readonly (readonly string[])[]): string => {
  const rows = cells.map((r) => r.map(markdownText));
  return `${[
    `| ${rows[0]!.join(' | ')} |`,
    `|${rows[0]!.map(() => '---').join('|')}|`,
    ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')}\n`;
};
