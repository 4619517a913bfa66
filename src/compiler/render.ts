import { CODES } from './codes.js';
import type { Diagnostic } from './diagnostics.js';
import { LineIndex } from './source.js';
import { printable } from '../printable.js';

// Diagnostics to text: `file:line:col: error[TLR1002]: message`, the source line, a caret line under
// the span, then hints. Colour only when asked (the CLI decides: TTY, NO_COLOR, FORCE_COLOR).

export interface RenderOptions {
  readonly color: boolean;
}

/** Diagnostics on a file that is not a recipe: its lines are never shown (it may be a secret). */
export const UNQUOTED: ReadonlySet<string> = new Set(['TLR0002', 'TLR0003']);

const paint = (on: boolean, code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** One diagnostic as text: file:line:col, the code, the line with a caret, hints. */
export function renderDiagnostic(d: Diagnostic, file: string, text: string | LineIndex, opts: RenderOptions): string {
  const lines = typeof text === 'string' ? new LineIndex(text) : text;
  const red = paint(opts.color, '1;31'),
    yellow = paint(opts.color, '1;33'),
    bold = paint(opts.color, '1'),
    dim = paint(opts.color, '2'),
    cyan = paint(opts.color, '36');
  const sev = d.severity === 'error' ? red(`error[${d.code}]`) : yellow(`warning[${d.code}]`);
  const { line, column } = d.span.start;
  const out = [`${bold(`${printable(file)}:${line}:${column}`)}: ${sev}: ${bold(printable(d.message))}`];
  if (UNQUOTED.has(d.code)) return [...out, ...d.hints.map((h) => `  ${cyan('= hint:')} ${printable(h)}`)].join('\n');
  // The line as written, escaped: a recipe's comment or string may hold terminal escapes.
  const raw = lines.lineText(line),
    src = printable(raw);
  const gutter = String(line).length;
  const col = (c: number) => printable(raw.slice(0, c - 1)).length + 1;
  const endCol = d.span.end.line === line ? col(d.span.end.column) : src.length + 1;
  const width = Math.max(1, endCol - col(column));
  out.push(dim(`${' '.repeat(gutter)} |`));
  out.push(`${dim(`${line} |`)} ${src}`);
  const caretColor = d.severity === 'error' ? red : yellow;
  out.push(
    `${dim(`${' '.repeat(gutter)} |`)} ${' '.repeat(Math.max(0, col(column) - 1))}${caretColor('^'.repeat(width))}`,
  );
  for (const h of d.hints) out.push(`${' '.repeat(gutter)} ${cyan('= hint:')} ${printable(h)}`);
  return out.join('\n');
}

/** One diagnostic as text: file:line:col, the code, the line with a caret, hints. */
export function renderDiagnostics(ds: readonly Diagnostic[], file: string, text: string, opts: RenderOptions): string {
  const lines = new LineIndex(text);
  return ds.map((d) => renderDiagnostic(d, file, lines, opts)).join('\n\n');
}

/** The JSON form: the diagnostic's own fields plus the file and the code's title. */
export function diagnosticJson(d: Diagnostic, file: string): object {
  return {
    file,
    code: d.code,
    severity: d.severity,
    title: CODES[d.code].title,
    message: d.message,
    span: d.span,
    hints: d.hints,
  };
}

/** A count line: '2 errors, 1 warning'. */
export function summary(ds: readonly Diagnostic[]): string {
  const e = ds.filter((d) => d.severity === 'error').length,
    w = ds.length - e;
  const part = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;
  return [e ? part(e, 'error') : '', w ? part(w, 'warning') : ''].filter(Boolean).join(', ');
}
