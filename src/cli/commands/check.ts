import { diagnosticJson, renderDiagnostics, summary } from '../../compiler/render.js';
import { hasErrors } from '../../compiler/diagnostics.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';

export const CHECK_HELP = `usage: tlr check FILE... [--json]

Checks recipes: syntax, the model and its layer names, the data folder, every setting.
Prints each problem as file:line:col: error[TLRnnnn]: message, the line, a caret under it and hints.
Exit status: 1 if any recipe has an error, 0 otherwise (warnings do not fail).
  --json   print all diagnostics as one JSON array`;

/** `tlr check`: each recipe's diagnostics, or ok. */
export function checkCommand(files: readonly string[], flags: { json: boolean }, io: Output): number {
  if (!files.length) throw new UsageError('tlr check needs at least one recipe file');
  const color = useColor();
  const json: object[] = [];
  let failed = false;
  for (const file of files) {
    const { diagnostics, text } = compileFile(file);
    failed ||= hasErrors(diagnostics);
    if (flags.json) {
      json.push(...diagnostics.map((d) => diagnosticJson(d, file)));
      continue;
    }
    if (diagnostics.length) io.out(`${renderDiagnostics(diagnostics, file, text, { color })}\n\n${file}: ${summary(diagnostics)}\n`);
    else io.out(`${file}: ok`);
  }
  if (flags.json) io.out(JSON.stringify(json, null, 2));
  return failed ? 1 : 0;
}
