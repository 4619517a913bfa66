import * as fs from 'node:fs';
import * as path from 'node:path';
import { readContract } from '../contracts/read.js';
import type { Plan } from '../contracts/plan.js';

// The data a run saw, as its plan.json records it (classes in order, images per class per part), for a recipe whose
// data is not in git: the runs made while the repository was at a commit are the only record of the data it had.

/** The run folders of a runs folder, newest first (their names are their start times); none when it cannot be read. */
export function newestRuns(runsDir: string): string[] {
  try {
    return fs
      .readdirSync(runsDir)
      .sort()
      .reverse()
      .map((n) => path.join(runsDir, n));
  } catch {
    return [];
  }
}

/** A run made from `recipe` (its path from the repository's root) with `commit` checked out and the file unchanged. */
const madeAt = (dir: string, recipe: string, commit: string): boolean => {
  try {
    const r = readContract('engine', path.join(dir, 'engine.json')).recipe;
    return !!r?.git && r.git.commit === commit && !r.git.dirty && r.path === recipe;
  } catch {
    return false;
  }
};

/** The same data sets: one root, the same validation and test sources. */
const sameSources = (a: Plan['data'], b: Plan['data']) =>
  a.root === b.root &&
  JSON.stringify([a.train, a.validation, a.test]) === JSON.stringify([b.train, b.validation, b.test]);

/** The latest run of `plan`'s recipe made at `commit` on the same data folders: its folder and the data it saw. */
export function recordedData(
  plan: Plan,
  recipe: string,
  commit: string,
): { readonly dir: string; readonly data: Plan['data'] } | null {
  for (const dir of newestRuns(plan.output.runsDir)) {
    if (!madeAt(dir, recipe, commit)) continue;
    try {
      const data = readContract('plan', path.join(dir, 'plan.json')).data;
      if (sameSources(data, plan.data)) return { dir, data };
    } catch {}
  }
  return null;
}

/** `plan` with the classes and counts a run recorded. */
export const withRecorded = (plan: Plan, data: Plan['data']): Plan => ({
  ...plan,
  data: { ...plan.data, classes: data.classes, counts: data.counts },
});
