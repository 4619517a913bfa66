import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { printable } from '../../printable.js';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { planListing } from '../../review/plan-listing.js';
import { planText } from '../plan-text.js';
import { useColor, UsageError, type Output } from '../io.js';
import { compile } from '../../compiler/index.js';
import { problemsText, readSource } from '../sources.js';
import { computeText } from '../estimate-text.js';
import { enginesLine } from '../plan-engines.js';
import { sweepJson, sweepText } from '../sweep-text.js';

/** `tlr plan`: what a run will do, or the plan itself (--json), or one line per aspect (--textconv). */
export function planCommand(
  files: readonly string[],
  flags: { json: boolean; textconv?: boolean; stdinFilename?: string },
  io: Output,
): number {
  if (files.length !== 1) throw new UsageError('tlr plan takes one recipe file (or - for stdin)');
  if (flags.textconv) return textconv(files[0]!, io);
  const src = readSource(files[0]!, { stdinFilename: flags.stdinFilename });
  const { diagnostics, plan, sweep } = compile(src.text, { file: src.file, sweeps: true });
  if (diagnostics.length) io.err(problemsText(src, diagnostics, useColor(process.stderr)));
  if (sweep?.variants.every((v) => v.plan)) {
    io.out(flags.json ? JSON.stringify(sweepJson(sweep), null, 2) : sweepText(src.label, sweep));
    return 0;
  }
  if (!plan) return 1;
  io.out(flags.json ? JSON.stringify(plan, null, 2) : planText(plan) + enginesLine(plan) + computeText(plan));
  return 0;
}

/**
 * git's textconv: the plan one aspect a line. git hands an older revision's recipe over as a
 * temporary file, where its relative data paths lead nowhere, so such a file is compiled as if it
 * stood in each folder of the work tree that holds recipes, the first where it checks. A recipe
 * that checks nowhere prints its own text with its problems, and the command still succeeds:
 * git diff must go on.
 */
function textconv(file: string, io: Output): number {
  // A textconv must print something and succeed, whatever the file holds: git aborts the whole diff otherwise.
  let text: string;
  try {
    text = readSource(file).text;
  } catch {
    io.out(undecodable(file));
    return 0;
  }
  try {
    return textconvOf(file, text, io);
  } catch (e) {
    io.out(`${printableLines(text)}\n# tlr: could not plan this recipe: ${printable((e as Error).message)}`);
    return 0;
  }
}

/** Each line escaped for a terminal (git diff prints textconv output to one), newlines kept. */
const printableLines = (text: string): string => text.split('\n').map(printable).join('\n');

/** What textconv prints for a file that is not UTF-8 text: Latin-1 shown escaped, binary as its size and digest. */
function undecodable(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return `# tlr: cannot read this file: ${printable((e as Error).message)}`;
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (bytes.includes(0)) return `# tlr: binary data, not a recipe: ${bytes.length} bytes, sha256 ${digest}`;
  return (
    `${printableLines(bytes.toString('latin1'))}\n# tlr: not UTF-8 text (shown as Latin-1), not a recipe; ` +
    `sha256 ${digest}`
  );
}

function textconvOf(file: string, text: string, io: Output): number {
  const places = [path.resolve(file), ...recipeFolders().map((d) => path.join(d, path.basename(file)))];
  let first: ReturnType<typeof compile> | null = null;
  for (const at of places) {
    const c = compile(text, { file: at });
    if (c.plan) {
      io.out(planListing(c.plan));
      return 0;
    }
    first ??= c;
  }
  io.out(
    `${printableLines(text)}\n# tlr: this recipe does not check: ` +
      printable(first!.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')),
  );
  return 0;
}

/** The folders of this work tree that hold tracked recipes (none outside a repository). */
function recipeFolders(): string[] {
  const r = spawnSync('git', ['ls-files', '-z', '--full-name', '--', '*.tlr'], { encoding: 'utf8' });
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).stdout.trim();
  if (r.status !== 0 || !top) return [];
  return [
    ...new Set(
      r.stdout
        .split('\0')
        .filter(Boolean)
        .map((f) => path.join(top, path.dirname(f))),
    ),
  ];
}
