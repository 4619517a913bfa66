import { renderDiagnostics, summary } from '../../compiler/render.js';
import { planText } from '../plan-text.js';
import { useColor, UsageError, type Output } from '../io.js';
import { compile } from '../../compiler/index.js';
import { readSource } from '../sources.js';
import { computeText } from '../estimate-text.js';
import { enginesLine } from '../plan-engines.js';

export const PLAN_HELP = `usage: tlr plan FILE|- [--json] [--stdin-filename PATH]

Shows what \`tlr run\` would do: the model and where its weights come from, the data and its
splits, each stage's frozen and trainable layers, feature caching, where results go, and which
engines can run it here (tfjs, and torch when a Python with torch and torchvision is found).
It ends with the compute: multiply-accumulates per image and per epoch for each stage and the whole
run, and a time for each engine that can run it here once \`tlr doctor --calibrate\` has measured it.
  --json   print the plan itself (validated against schema/plan.schema.json)
  --stdin-filename PATH  where a recipe read from stdin (-) stands: its relative paths start there`;

/** `tlr plan`: what a run will do, or the plan itself (--json). */
export function planCommand(
  files: readonly string[],
  flags: { json: boolean; stdinFilename?: string },
  io: Output,
): number {
  if (files.length !== 1) throw new UsageError('tlr plan takes one recipe file (or - for stdin)');
  const src = readSource(files[0]!, { stdinFilename: flags.stdinFilename });
  const { diagnostics, plan } = compile(src.text, { file: src.file });
  if (diagnostics.length)
    io.err(
      `${renderDiagnostics(diagnostics, src.label, src.text, { color: useColor(process.stderr) })}\n\n${src.label}: ` +
        `${summary(diagnostics)}\n`,
    );
  if (!plan) return 1;
  io.out(flags.json ? JSON.stringify(plan, null, 2) : planText(plan) + enginesLine(plan) + computeText(plan));
  return 0;
}
