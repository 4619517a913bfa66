import * as fs from 'node:fs';
import * as path from 'node:path';
import { runKey } from '../review/diff.js';
import type { RunResult, Side } from '../review/render-diff.js';
import { estimates } from './estimate-text.js';
import { engineVerdicts } from './plan-engines.js';
import type { Plan } from '../contracts/plan.js';
import { readContract } from '../contracts/read.js';

// One side of a comparison of plans (`tlr diff`, a sweep's `explain`): the plan's engines, its
// latest finished run and its time estimates on this machine.

/** The latest finished run of exactly this plan in its runs folder, if any. */
function latestRun(plan: Plan): RunResult | null {
  const root = plan.output.runsDir;
  let names: string[];
  try {
    names = fs.readdirSync(root).sort().reverse();
  } catch {
    return null;
  }
  for (const n of names) {
    const dir = path.join(root, n);
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
export function side(label: string, plan: Plan): Side {
  return { label, engines: engineVerdicts(plan), result: latestRun(plan), estimates: estimates(plan) };
}
