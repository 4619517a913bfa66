import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runKey } from '../review/diff.js';
import type { RunResult, Side } from '../review/render-diff.js';
import { estimates } from './estimate-text.js';
import { engineVerdicts } from './plan-engines.js';
import type { Plan } from '../contracts/plan.js';
import { readContract } from '../contracts/read.js';
import { compile, type Sweep } from '../compiler/index.js';
import { displayPath } from '../paths.js';
import { gitDataView, shownRoots, workTreeView, type DataLens } from './data-view.js';
import { newestRuns, recordedData, withRecorded } from './recorded-data.js';
import { gitTop, problemsText, type RecipeSource } from './sources.js';
import { useColor, UsageError, type Output } from './io.js';
import type { DataSeen } from '../review/render-diff.js';

// One side of a comparison of plans (`tlr diff`, a sweep's `explain`): the recipe compiled against the data its
// revision had, the plan's engines, its latest finished run and its time estimates on this machine.

/** What a side compiles to: one plan, or a sweep whose variants all check; and which data it was compiled against. */
export type Compiled = (
  | { readonly plan: Plan; readonly sweep: null }
  | { readonly plan: null; readonly sweep: Sweep }
) & {
  readonly data: DataSeen;
  /** The data folders it names (absolute). */
  readonly roots: readonly string[];
};

const NOW: DataSeen = { compared: true, says: 'as it is now' };

/** The repository's root with links resolved (git's tree paths start there). */
const realTop = () => fs.realpathSync(gitTop());

/** The view a side's data is read through: git's tree at its revision, or the files as they are. */
function viewOf(src: RecipeSource): DataLens {
  return src.rev && !src.rev.startsWith(':') ? gitDataView(realTop(), src.rev) : workTreeView();
}

/**
 * What a side's data was: read now, read through git, or recorded by a run made at its revision (the plans then hold
 * the recorded classes and counts). Data named by a recipe from git's index is the work tree's, so not compared.
 */
function settle(src: RecipeSource, view: DataLens, plans: readonly Plan[]): { plans: Plan[]; data: DataSeen } {
  const rev = src.rev;
  if (!rev) return { plans: [...plans], data: NOW };
  if (rev.startsWith(':'))
    return {
      plans: [...plans],
      data: { compared: false, says: `not compared (${rev} is git's index; the data is the work tree's)` },
    };
  const missing = view.reads.filter((r) => r.from === 'not in git' || r.from === 'outside');
  if (!missing.length) return { plans: [...plans], data: { compared: true, says: `${rev}'s, read through git` } };
  const top = realTop();
  const commit = spawnSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: top })
    .stdout.toString()
    .trim();
  const recipe = path.relative(top, path.resolve(src.file)).split(path.sep).join('/');
  const found = plans.map((p) => recordedData(p, recipe, commit));
  if (found.every(Boolean)) {
    const runs = [...new Set(found.map((f) => displayPath(path.dirname(path.resolve(src.file)), f!.dir)))];
    return {
      plans: plans.map((p, i) => withRecorded(p, found[i]!.data)),
      data: { compared: true, says: `as recorded by ${runs.join(', ')} (made at ${rev}; the data is not in git)` },
    };
  }
  const roots = (from: string) =>
    shownRoots(
      path.resolve(src.file),
      missing.filter((r) => r.from === from),
    );
  const why = [
    roots('not in git') && `${roots('not in git')} is not in git at ${rev}`,
    roots('outside') && `${roots('outside')} is outside the repository`,
  ].filter(Boolean);
  return {
    plans: [...plans],
    data: { compared: false, says: `not compared: ${why.join(' and ')}, and no run was made at ${rev}` },
  };
}

/** A side compiled against its data; diagnostics printed and a usage error when it (or a variant) does not check. */
export function compiledSide(src: RecipeSource, io: Output): Compiled {
  const view = viewOf(src);
  try {
    const c = compile(src.text, { file: path.resolve(src.file), sweeps: true, probe: view.probe });
    const variants = c.sweep?.variants;
    if (!c.plan && !variants?.every((v) => v.plan)) {
      io.err(problemsText(src, c.diagnostics, useColor(process.stderr)));
      throw new UsageError(`${src.label} does not check; tlr diff compares recipes that do`);
    }
    const { plans, data } = settle(src, view, c.plan ? [c.plan] : variants!.map((v) => v.plan!));
    const roots = [...new Set(view.reads.map((r) => r.root))];
    if (c.plan) return { plan: plans[0]!, sweep: null, data, roots };
    const sweep = { ...c.sweep!, variants: variants!.map((v, i) => ({ ...v, plan: plans[i]! })) };
    return { plan: null, sweep, data, roots };
  } finally {
    view.close();
  }
}

/** The latest finished run of exactly this plan in its runs folder, if any. */
function latestRun(plan: Plan): RunResult | null {
  for (const dir of newestRuns(plan.output.runsDir)) {
    try {
      const p = readContract('plan', path.join(dir, 'plan.json'));
      if (runKey(p) !== runKey(plan)) continue;
      const r = readContract('report', path.join(dir, 'report.json'));
      return {
        dir,
        accuracy: r.evaluation?.accuracy ?? null,
        split: r.evaluation?.split ?? 'test',
        loss: r.evaluation?.loss ?? null,
        seconds: r.seconds ?? 0,
      };
    } catch {}
  }
  return null;
}

/** One side of a diff: a plan with its engines, its latest run and its time estimates. */
export function side(label: string, plan: Plan, data: DataSeen = NOW): Side {
  return { label, engines: engineVerdicts(plan), result: latestRun(plan), estimates: estimates(plan), data };
}
