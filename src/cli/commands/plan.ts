import { renderDiagnostics, summary } from '../../compiler/render.js';
import { planText } from '../plan-text.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';
import { torchUnsupported } from '../../engines/torch/networks.js';
import { quickTorchPython } from '../../engines/torch/python.js';
import type { Plan } from '../../plan/types.js';

/** Which engines can run the plan here (the torch engine needs a Python with torch). */
function enginesLine(plan: Plan): string {
  const why = torchUnsupported(plan);
  const torch = why ? `torch: no (it has no ${plan.model.name}; torchvision's networks only)`
    : quickTorchPython() ? 'torch: available here (tlr run --engine torch [--nproc N]; tlr doctor tells more)'
    : 'torch: not here (no Python with torch and torchvision; tlr doctor says what to install)';
  return `\n${'engines'.padEnd(11)}tfjs (default) · ${torch}`;
}

export const PLAN_HELP = `usage: tlr plan FILE [--json]

Shows what \`tlr run\` would do: the model and where its weights come from, the data and its
splits, each stage's frozen and trainable layers, feature caching, where results go, and which
engines can run it here (tfjs, and torch when a Python with torch and torchvision is found).
  --json   print the plan itself (validated against schema/plan.schema.json)`;

/** `tlr plan`: what a run will do, or the plan itself (--json). */
export function planCommand(files: readonly string[], flags: { json: boolean }, io: Output): number {
  if (files.length !== 1) throw new UsageError('tlr plan takes one recipe file');
  const file = files[0]!;
  const { diagnostics, plan, text } = compileFile(file);
  if (diagnostics.length) io.err(`${renderDiagnostics(diagnostics, file, text, { color: useColor(process.stderr) })}\n\n${file}: ${summary(diagnostics)}\n`);
  if (!plan) return 1;
  io.out(flags.json ? JSON.stringify(plan, null, 2) : planText(plan) + enginesLine(plan));
  return 0;
}
