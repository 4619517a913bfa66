import { printable } from './printable.js';

// One escaping policy per kind of output tlr writes. Every name, path, class and message that came
// from a recipe, a data folder or a run folder may hold anything (control characters, bidi marks,
// markup, quotes, newlines), so each output kind has one function here and every writer of that
// kind uses it. test/reliability/escaping.test.ts sends the same hostile corpus through each.
//
//   terminal   printable(): controls and bidi marks shown as \x1b, \u202e
//   markdown   markdownText(): link, image and table characters backslash-escaped, HTML's < > & as entities, one line
//   html       htmlText(): & < > " ' as entities
//   csv        csvCell(): a cell that a spreadsheet would read as a formula starts with '
//   shell      shellWord(): one single-quoted word; generated scripts use fileSafeName() or no value at all
//   github     ghData(), ghProperty(): workflow commands' escapes, with controls made printable first
//   SARIF      JSON.stringify (the format is JSON; messages are data)

export { printable };

/** Text for a terminal: see printable.ts. */
export const terminal = printable;

/**
 * A name as a file or folder name (a recipe's folder under runs/), a Slurm job name or a rendezvous id: letters,
 * digits, `.`, `_` and `-` only, never
 * starting with `.` or `-` (no `..`, no hidden folder, no option), never empty.
 *
 * @example fileSafeName("Bob's cats") // 'Bob-s-cats'
 */
export const fileSafeName = (name: string, empty = 'recipe'): string =>
  name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || empty;

/**
 * One word for a POSIX shell: single-quoted, a single quote written as '\''. Safe for any text (newlines stay inside
 * the quotes), but tlr's generated scripts hold no recipe text at all: values travel in job.json.
 */
export const shellWord = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text inside an HTML element or a quoted attribute. */
export const htmlText = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML[c]!);

/**
 * Text inside a Markdown paragraph or table cell, as GitHub renders it: one line (newlines become spaces), every
 * character that starts a link, an image or a table cell backslash-escaped (emphasis and code spans are left: they
 * cannot load anything, and `mobilenet_v1` stays readable), and < > & as entities so that no HTML tag (an `<img>`
 * beacon, a `<details>` that swallows the rest of a comment) reaches the page. Controls and bidi marks are shown
 * escaped.
 */
export const markdownText = (s: string): string =>
  printable(s.replace(/\r\n|\r|\n/g, ' '))
    .replace(/[\\[\]|]/g, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => HTML[c]!);

/**
 * Text inside a Markdown code span: backticks cannot close it (a longer fence is chosen), and one line. Code spans
 * show < and & literally, so no HTML can start in one.
 */
export function markdownCode(s: string): string {
  const one = printable(s.replace(/\r\n|\r|\n/g, ' '));
  const longest = Math.max(0, ...[...one.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = one.startsWith('`') || one.endsWith('`') || one.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${one}${pad}${fence}`;
}

/**
 * A CSV cell's text that a spreadsheet will not run: one starting with = + - @, a tab or a carriage return is a formula
 * to Excel, LibreOffice and Google Sheets, so it is written with a leading ' (OWASP's advice). Numbers are
 * written as numbers by the caller, never through here.
 */
export const csvCell = (s: string): string => (/^[=+\-@\t\r]/.test(s) && !PLAIN_NUMBER.test(s) ? `'${s}` : s);

/** A number as text (`-0.5`, `+1.2%`, `-`): a spreadsheet reads it as a number or a dash, never as a formula. */
const PLAIN_NUMBER = /^(?:[+-]?(?:\d+(?:[.,]\d+)*(?:e[+-]?\d+)?%?)|-)$/i;

/** csv-stringify's options that pass every string cell through csvCell (numbers stay numbers). */
export const CSV_SAFE = { cast: { string: csvCell } } as const;

// GitHub's workflow-command escapes: %, CR and LF in a message; also : and , in a property.
/** A workflow command's message. Controls (but CR and LF, which are escaped) and bidi marks shown escaped. */
export const ghData = (s: string): string =>
  printable(s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A'));

/** A workflow command's property (file=, title=). */
export const ghProperty = (s: string): string => ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
