import { createTwoFilesPatch } from 'diff';
import { format } from '../../compiler/format.js';
import { renderDiagnostics } from '../../compiler/render.js';
import { useColor, UsageError, type Output } from '../io.js';
import { rewriteFileAtomic } from '../../files/atomic.js';
import { recipeFiles } from '../recipe-files.js';
import { readEach } from '../sources.js';
import { printable } from '../../printable.js';

/** A unified diff of what formatting changes, as `diff -u` prints it (escaped for a terminal). */
const patch = (file: string, before: string, after: string): string =>
  createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, '', '', { context: 3 })
    .split('\n')
    .filter((l) => !/^=+$/.test(l)) // jsdiff's separator line; `diff -u` has none
    .map(printable)
    .join('\n');

/** `tlr fmt`: the canonical layout, printed, written (--write) or checked (--check). */
export function fmtCommand(
  args: readonly string[],
  flags: { write: boolean; check: boolean; stdinFilename?: string },
  io: Output,
): number {
  if (!args.length) throw new UsageError('tlr fmt needs a recipe file');
  if (flags.write && flags.check) throw new UsageError('--write and --check do not go together');
  const files = recipeFiles(args, io);
  if (files.length > 1 && !flags.write && !flags.check)
    throw new UsageError('tlr fmt prints one file; use --write or --check for several');
  if (flags.write && files.includes('-'))
    throw new UsageError('--write cannot rewrite stdin; drop --write to print it');
  let status = 0;
  for (const spec of files) {
    const src = readEach(spec, { stdinFilename: flags.stdinFilename });
    if ('problem' in src) {
      io.err(`${renderDiagnostics([src.problem], src.label, '', { color: useColor(process.stderr) })}`);
      status = 1;
      continue;
    }
    const r = format(src.text);
    if (!r.ok) {
      io.err(
        `${renderDiagnostics(r.diagnostics, src.label, src.text, { color: useColor(process.stderr) })}\n\n` +
          `${src.label}: not formatted: fix the syntax errors first`,
      );
      status = 1;
      continue;
    }
    if (flags.check) {
      if (r.text !== src.text) {
        io.out(patch(src.label, src.text, r.text));
        io.err(`${src.label}: not in canonical layout (run: tlr fmt --write ${src.label})`);
        status = 1;
      }
    } else if (flags.write) {
      if (r.text !== src.text) {
        rewriteFileAtomic(spec, r.text);
        io.out(`formatted ${spec}`);
      }
    } else {
      process.stdout.write(r.text);
    }
  }
  return status;
}
