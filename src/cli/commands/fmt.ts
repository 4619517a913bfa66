import { format } from '../../compiler/format.js';
import { renderDiagnostics } from '../../compiler/render.js';
import { readRecipe, useColor, UsageError, type Output } from '../io.js';
import { rewriteFileAtomic } from '../../files/atomic.js';

export const FMT_HELP = `usage: tlr fmt FILE [--write | --check]

Prints the recipe in its canonical layout (comments kept).
  --write  rewrite the files in place (atomically); prints the files it changed
  --check  change nothing; exit 1 and name the files that are not in canonical layout`;

/** `tlr fmt`: the canonical layout, printed, written (--write) or checked (--check). */
export function fmtCommand(files: readonly string[], flags: { write: boolean; check: boolean }, io: Output): number {
  if (!files.length) throw new UsageError('tlr fmt needs a recipe file');
  if (flags.write && flags.check) throw new UsageError('--write and --check do not go together');
  if (files.length > 1 && !flags.write && !flags.check)
    throw new UsageError('tlr fmt prints one file; use --write or --check for several');
  let status = 0;
  for (const file of files) {
    const text = readRecipe(file);
    const r = format(text);
    if (!r.ok) {
      io.err(
        `${renderDiagnostics(r.diagnostics, file, text, { color: useColor(process.stderr) })}\n\n${file}: not ` +
          `formatted: fix the syntax errors first`,
      );
      status = 1;
      continue;
    }
    if (flags.check) {
      if (r.text !== text) {
        io.out(`${file}: not in canonical layout (run: tlr fmt --write ${file})`);
        status = 1;
      }
    } else if (flags.write) {
      if (r.text !== text) {
        rewriteFileAtomic(file, r.text);
        io.out(`formatted ${file}`);
      }
    } else {
      process.stdout.write(r.text);
    }
  }
  return status;
}
