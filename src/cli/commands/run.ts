import { renderDiagnostics, summary } from '../../compiler/render.js';
import { TlrError } from '../../errors.js';
import { isSweepFolder } from '../../runtime/sweep-folder.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';
import { chooseEngine, runWithView, type RunFlags } from '../run-session.js';
import { resumeSweep, runSweep } from './run-sweep.js';

export { useLiveView, type RunFlags } from '../run-session.js';

// `tlr run`: compiles and runs a recipe (or resumes a run folder) with the live view, plain lines or
// NDJSON; a recipe with lists of alternatives runs as a sweep (./run-sweep.ts).

/** The recipe compiled (a plan, or a sweep), or null when it does not check (its diagnostics are printed). */
function compileRecipe(files: readonly string[], io: Output): ReturnType<typeof compileFile> | null {
  if (files.length !== 1) throw new UsageError('tlr run takes one recipe file');
  const file = files[0]!;
  const c = compileFile(file, { sweeps: true });
  if (c.diagnostics.length)
    io.err(
      `${renderDiagnostics(c.diagnostics, file, c.text, { color: useColor(process.stderr) })}\n\n${file}: ` +
        `${summary(c.diagnostics)}\n`,
    );
  return c.plan || c.sweep ? c : null;
}

export async function runCommand(files: readonly string[], flags: RunFlags, io: Output): Promise<number> {
  if (flags.resume && files.length) throw new UsageError('give either a recipe or --resume RUN_DIR, not both');
  if (flags.resume && isSweepFolder(flags.resume)) return resumeSweep(flags.resume, flags, io);
  const recipe = flags.resume ? null : compileRecipe(files, io);
  if (!flags.resume && !recipe) return 1;
  if (recipe?.sweep) return runSweep({ file: files[0]!, text: recipe.text, sweep: recipe.sweep }, flags, io);
  // A bad flag or environment variable stops here, as a usage error, before the live view starts.
  const chosen = await chooseEngine(flags);
  try {
    const r = await runWithView(
      chosen,
      { plan: recipe?.plan ?? undefined, recipeText: recipe?.text ?? '', resume: flags.resume },
      flags,
      io,
    );
    return r.status === 'finished' ? 0 : 130;
  } catch (e) {
    if (e instanceof TlrError && !(e instanceof UsageError)) return e.exitCode;
    throw e;
  }
}
