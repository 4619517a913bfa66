// Tables as aligned text columns and as Markdown: compare and sweeps print them.

/** Rows as aligned text columns. */
export function table(rows: readonly (readonly string[])[]): string {
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
export const markdown = (rows: readonly (readonly string[])[]): string =>
  `${[
    `| ${rows[0]!.join(' | ')} |`,
    `|${rows[0]!.map(() => '---').join('|')}|`,
    ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')}\n`;
