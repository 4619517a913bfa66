import { renderDiagnostics, summary } from '../../compiler/render.js';
import { planText } from '../plan-text.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';

export const PLAN_HELP = `usage: tlr plan FILE [--json]

Shows what \`tlr run\` would do: the model and where its weights come from, the data and its
splits, each stage's frozen and trainable layers, feature caching, and where results go.
  --json   print the plan itself (validated against schema/plan.schema.json)`;

/** `tlr plan`: what a run will do, or the plan itself (--json). */
export function planCommand(files: readonly string[], flags: { json: boolean }, io: Output): number {
  if (files.length !== 1) throw new UsageError('tlr plan takes one recipe file');
  const file = files[0]!;
  const { diagnostics, plan, text } = compileFile(file);
  if (diagnostics.length) io.err(`${renderDiagnostics(diagnostics, file, text, { color: useColor(process.stderr) })}\n\n${file}: ${summary(diagnostics)}\n`);
  if (!plan) return 1;
  io.out(flags.json ? JSON.stringify(plan, null, 2) : planText(plan));
  return 0;
}
