import { diagnosticJson, renderDiagnostics, summary } from '../../compiler/render.js';
import { hasErrors } from '../../compiler/diagnostics.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';
import type { Plan } from '../../plan/types.js';
import { printable } from '../../printable.js';

export const CHECK_HELP = `usage: tlr check FILE... [--json] [--deep]

Checks recipes: syntax, the model and its layer names, the data folder, every setting.
Prints each problem as file:line:col: error[TLRnnnn]: message, the line, a caret under it and hints.
Exit status: 1 if any recipe has an error, 0 otherwise (warnings do not fail).
  --json   print all diagnostics as one JSON array
  --deep   also decode every image the recipe would read, and name those that cannot be read
           (more than 1% of a part is an error: tlr run would stop on it)`;

/** `tlr check`: each recipe's diagnostics, or ok. */
export function checkCommand(
  files: readonly string[],
  flags: { json: boolean; deep?: boolean },
  io: Output,
): number | Promise<number> {
  if (!files.length) throw new UsageError('tlr check needs at least one recipe file');
  const color = useColor();
  const json: object[] = [];
  let failed = false;
  const plans: [string, Plan][] = [];
  for (const file of files) {
    const { diagnostics, text, plan } = compileFile(file);
    failed ||= hasErrors(diagnostics);
    if (plan) plans.push([file, plan]);
    if (flags.json) {
      json.push(...diagnostics.map((d) => diagnosticJson(d, file)));
      continue;
    }
    if (diagnostics.length)
      io.out(`${renderDiagnostics(diagnostics, file, text, { color })}\n\n${file}: ${summary(diagnostics)}\n`);
    else if (!flags.deep) io.out(`${file}: ok`);
  }
  if (!flags.deep) {
    if (flags.json) io.out(JSON.stringify(json, null, 2));
    return failed ? 1 : 0;
  }
  return deep(plans, flags.json, json, io).then((bad) => (failed || bad ? 1 : 0));
}

/** --deep: every image decoded; unreadable ones listed; more than 1% of a part is an error. */
async function deep(plans: readonly [string, Plan][], asJson: boolean, json: object[], io: Output): Promise<boolean> {
  const { deepCheck } = await import('../deep-check.js');
  let bad = false;
  for (const [file, plan] of plans) {
    const r = await deepCheck(plan);
    bad ||= r.failing.length > 0;
    if (asJson) {
      json.push({ file, deep: r });
      continue;
    }
    for (const u of r.unreadable) io.out(printable(`${file}: warning: ${u.reason}`));
    for (const f of r.failing) io.out(`${file}: error: ${f}`);
    io.out(
      `${file}: ${r.failing.length ? 'broken data' : 'ok'} (${r.images} images ` +
        `decoded${r.unreadable.length ? `, ${r.unreadable.length} unreadable` : ''})`,
    );
  }
  if (asJson) io.out(JSON.stringify(json, null, 2));
  return bad;
}
