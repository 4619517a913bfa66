import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderDiagnostics, summary } from '../../compiler/render.js';
import { setStageLr } from '../../compiler/edit.js';
import { Events } from '../../runtime/events.js';
import { lrFinder, type LrCurve } from '../../engines/index.js';
import { lrChart } from '../../report/svg.js';
import { lrChartText } from '../../text/lr-chart.js';
import { formatLr, stageLr } from '../../text/numbers.js';
import { rewritable, rewriteFileAtomic, writeFileAtomic } from '../../files/atomic.js';
import { outputFileProblem } from '../../data/model-folder.js';
import { dataFolders } from '../../runtime/run-folder.js';
import { compileFile, UsageError, type Output } from '../io.js';
import type { Plan } from '../../contracts/plan.js';

/**
 * Why the suggestion cannot be trusted when the smoothed loss is lowest at the first or the last
 * step it reached: the minimum is then only where the sweep stopped, not where the loss turns.
 */
export function minimumAtEdge(curve: LrCurve): string | null {
  const at = curve.lrs.indexOf(curve.minimum),
    last = curve.smoothed.length - 1;
  const range = `the range test (${curve.lrs.length} steps; --steps sets more)`;
  if (at === last && !curve.diverged)
    return `the loss was still falling at the end of ${range}: the suggestion is a guess; try more steps`;
  if (at === 0) return `the loss was lowest at the first step of ${range}: the suggestion is a guess`;
  return null;
}

/**
 * `tlr lr-find RECIPE [--stage N] [--write] [--json]`: the range test on one stage, a suggestion, and the recipe edited
 * with --write.
 */
/** The curve as `--json` gives it. */
const json = (curve: LrCurve) => ({
  rule: curve.rule,
  minimum: curve.minimum,
  steepest: curve.steepest,
  diverged: curve.diverged,
  lrs: curve.lrs,
  losses: curve.losses,
  smoothed: curve.smoothed,
});

/** The curve in the terminal: what was swept, the chart, the suggestion and where the chart went. */
function printCurve(io: Output, plan: Plan, stageNo: number, curve: LrCurve, value: string, svg: string): void {
  const st = plan.stages[stageNo - 1]!;
  io.out(
    `tlr lr-find · ${plan.recipe.name} · stage ${stageNo} ` +
      `(${st.featureCache.use ? 'head on cached features' : 'on images'}, ${st.optimizer}, batch ` +
      `${st.batch}): ${curve.lrs.length} steps from ${formatLr(curve.lrs[0]!)} to ` +
      `${formatLr(curve.lrs[curve.lrs.length - 1]!)}${curve.diverged ? ' (stopped: the loss exploded)' : ''}\n`,
  );
  for (const l of lrChartText(curve)) io.out(l);
  io.out(
    `\nsuggested  lr ${value}  (${curve.rule}: ${formatLr(curve.minimum)}; the loss falls fastest at ` +
      `${formatLr(curve.steepest)}; the recipe now says ${stageLr(st.lr)})`,
  );
  io.out(`chart      ${svg}`);
}

export async function lrFindCommand(
  files: readonly string[],
  flags: { stage?: string; write: boolean; json: boolean; steps?: string },
  io: Output,
): Promise<number> {
  if (files.length !== 1) throw new UsageError('tlr lr-find takes one recipe file');
  const file = files[0]!;
  const stageNo = flags.stage === undefined ? 1 : Number(flags.stage);
  const steps = flags.steps === undefined ? 100 : Number(flags.steps);
  if (!Number.isInteger(stageNo) || stageNo < 1)
    throw new UsageError(`--stage ${flags.stage}: give a stage number (1 is the first)`);
  if (!Number.isInteger(steps) || steps < 10 || steps > 10000)
    throw new UsageError(`--steps ${flags.steps}: give a whole number from 10 to 10000`);
  if (flags.write) rewritable(file); // a read-only recipe is refused before the sweep, not after
  const c = compileFile(file);
  if (c.diagnostics.length)
    io.err(
      `${renderDiagnostics(c.diagnostics, file, c.text, { color: false })}\n\n${file}: ${summary(c.diagnostics)}\n`,
    );
  if (!c.plan) return 1;
  if (stageNo > c.plan.stages.length)
    throw new UsageError(
      `--stage ${stageNo}: the recipe has ${c.plan.stages.length} stage${c.plan.stages.length > 1 ? 's' : ''}`,
    );
  const events = new Events();
  events.on((e) => {
    if (e.type === 'warning') io.err(`warning: ${e.message}`);
  });
  let shown = 0;
  const curve = await lrFinder()({
    plan: c.plan,
    stage: stageNo - 1,
    events,
    steps,
    onStep: (i, n) => {
      if (!flags.json && process.stderr.isTTY && i - shown >= 5) {
        shown = i;
        process.stderr.write(`\rsweeping: step ${i}/${n}`);
      }
    },
  });
  if (shown) process.stderr.write('\r\x1b[K');
  const value = formatLr(+curve.suggestion.toPrecision(1));
  const svg = path.join(c.plan.output.runsDir, 'lr-find', `stage-${stageNo}.svg`);
  const where = outputFileProblem(svg, { data: dataFolders(c.plan), replace: true });
  if (where) throw new UsageError(`cannot write the chart ${svg}: ${where}`);
  writeFileAtomic(
    svg,
    lrChart({ ...curve, title: `${c.plan.recipe.name}, stage ${stageNo}: learning-rate range test` }),
  );
  if (flags.json)
    io.out(JSON.stringify({ stage: stageNo, suggestion: curve.suggestion, written: value, ...json(curve), svg }));
  else printCurve(io, c.plan, stageNo, curve, value, svg);
  const edge = minimumAtEdge(curve);
  if (edge) io.err(`warning: ${edge}`);
  if (flags.write && edge) {
    io.err(`${file} was not changed: a rate from a curve whose minimum is at an edge is a guess; write one by hand`);
    return 1;
  }
  if (flags.write) {
    const text = fs.readFileSync(file, 'utf8');
    const r = setStageLr(text, stageNo - 1, value);
    if (!r.ok) throw new UsageError(`${file} changed and no longer parses; nothing was written`);
    rewriteFileAtomic(file, r.text);
    if (!flags.json) io.out(`written    ${file}: stage ${stageNo} has lr ${value}`);
  } else if (!flags.json)
    io.out(`           tlr lr-find ${file}${stageNo > 1 ? ` --stage ${stageNo}` : ''} --write puts it in the recipe`);
  return 0;
}
