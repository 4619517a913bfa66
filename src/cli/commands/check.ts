import { hasErrors } from '../../compiler/diagnostics.js';
import { compile } from '../../compiler/index.js';
import { githubAnnotations, jsonDiagnostics, sarifLog, type CheckedFile } from '../../compiler/reports.js';
import { TLR_VERSION } from '../../version.js';
import { recipeFiles } from '../recipe-files.js';
import { problemsText, readEach } from '../sources.js';
import { useColor, UsageError, type Output } from '../io.js';
import type { Plan } from '../../contracts/plan.js';
import { printable } from '../../printable.js';

export type CheckFormat = 'text' | 'json' | 'github' | 'sarif';

/** Each format's rendering of the whole check (text is printed file by file instead). */
const REPORTS: Record<Exclude<CheckFormat, 'text'>, (files: readonly CheckedFile[]) => string> = {
  json: (files) => JSON.stringify(jsonDiagnostics(files), null, 2),
  github: githubAnnotations,
  sarif: (files) => JSON.stringify(sarifLog(files, { version: TLR_VERSION }), null, 2),
};

/** The format asked for: --format, or --json; a usage error for any other. */
function formatOf(flags: { json: boolean; format?: string }): CheckFormat {
  const f = flags.format ?? (flags.json ? 'json' : 'text');
  if (f !== 'text' && !(f in REPORTS)) throw new UsageError(`--format takes text, json, github or sarif, not ${f}`);
  if (flags.json && f !== 'json') throw new UsageError(`--json and --format ${f} do not go together`);
  return f as CheckFormat;
}

/** `tlr check`: each recipe's diagnostics, or ok. */
export function checkCommand(
  args: readonly string[],
  flags: { json: boolean; format?: string; deep?: boolean; stdinFilename?: string },
  io: Output,
): number | Promise<number> {
  if (!args.length) throw new UsageError('tlr check needs at least one recipe file or folder');
  const format = formatOf(flags);
  if (flags.deep && (format === 'github' || format === 'sarif'))
    throw new UsageError(`--deep goes with --format text or json, not ${format}`);
  const color = useColor();
  const checked: CheckedFile[] = [];
  const plans: [string, Plan][] = [];
  for (const spec of recipeFiles(args, io)) {
    const src = readEach(spec, { stdinFilename: flags.stdinFilename });
    if ('problem' in src) {
      checked.push({ file: src.label, text: '', diagnostics: [src.problem] });
      if (format === 'text') io.out(problemsText({ ...src, text: '', file: src.label }, [src.problem], color));
      continue;
    }
    const { diagnostics, plan, sweep } = compile(src.text, { file: src.file, sweeps: true });
    checked.push({ file: src.label, text: src.text, diagnostics });
    if (plan) plans.push([src.label, plan]);
    // A sweep's variants often read one data folder: --deep decodes each folder once.
    for (const v of sweep?.variants ?? [])
      if (v.plan && !plans.some(([, p]) => p.data.root === v.plan!.data.root)) plans.push([src.label, v.plan]);
    if (format !== 'text') continue;
    if (diagnostics.length) io.out(problemsText(src, diagnostics, color));
    else if (!flags.deep) io.out(`${src.label}: ok${sweep ? ` (a sweep of ${sweep.variants.length} variants)` : ''}`);
  }
  const failed = checked.some((f) => hasErrors(f.diagnostics));
  if (!flags.deep) {
    if (format !== 'text') io.out(REPORTS[format](checked));
    return failed ? 1 : 0;
  }
  const json = format === 'json' ? jsonDiagnostics(checked) : [];
  return deep(plans, format === 'json', json, io).then((bad) => (failed || bad ? 1 : 0));
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
