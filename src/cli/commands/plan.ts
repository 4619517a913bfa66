import { renderDiagnostics, summary } from '../../compiler/render.js';
import { planText } from '../plan-text.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';
import { DEFAULT_ENGINE, engines } from '../../engines/index.js';
import type { Plan } from '../../plan/types.js';

/** Which engines can run the plan here: the default, and for each other whether it can and how. */
function enginesLine(plan: Plan): string {
  const each = engines().map((e) => {
    if (e.name === DEFAULT_ENGINE) return `${e.name} (default)`;
    const why = e.unsupported(plan);
    if (why) return `${e.name}: no (${why})`;
    const missing = e.missing();
    return missing
      ? `${e.name}: not here (${missing})`
      : `${e.name}: available here (${e.usage}; tlr doctor tells more)`;
  });
  return `\n${'engines'.padEnd(11)}${each.join(' · ')}`;
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
  if (diagnostics.length)
    io.err(
      `${renderDiagnostics(diagnostics, file, text, { color: useColor(process.stderr) })}\n\n${file}: ` +
        `${summary(diagnostics)}\n`,
    );
  if (!plan) return 1;
  io.out(flags.json ? JSON.stringify(plan, null, 2) : planText(plan) + enginesLine(plan));
  return 0;
}
