import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../../plan/types.js';
import { assertPlan } from '../../plan/validate.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { saveTargetProblem } from '../../data/model-folder.js';
import { TlrError } from '../../errors.js';

// The run folder: made new (runs/<recipe>/<timestamp>/) or reopened by --resume, with the
// checkpoint's state; and what a failed run leaves (nothing, when it failed before its first epoch).

/** A run that cannot go on: its message says why and what to do. */
export class RunError extends TlrError {}

/** Where the schedule stands; checkpointed after every epoch. */
export interface RunState {
  /** Index of the stage under way, and epochs it has completed. */
  stage: number;
  epoch: number;
  best: { value: number; stage: number; epoch: number } | null;
  stageBest: { value: number; epoch: number } | null;
  sinceBest: number;
}

export interface RunFolder {
  readonly dir: string;
  readonly plan: Plan;
  readonly resumed: boolean;
  state: RunState;
  /** RUN_DIR/checkpoint. */
  readonly checkpoint: string;
  saveState(): void;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** A new run folder; `created` gets the topmost folder this made and the run folder, so a failed run can remove all of it. */
function newRunDir(plan: Plan, created: string[]): string {
  const base = path.join(plan.output.runsDir, stamp(new Date()));
  let dir = base;
  for (let i = 2; fs.existsSync(dir); i++) dir = `${base}-${i}`;
  const top = fs.mkdirSync(dir, { recursive: true });
  created.push(top ?? dir, dir);
  return dir;
}

function folder(dir: string, plan: Plan, resumed: boolean, state: RunState): RunFolder {
  const checkpoint = path.join(dir, 'checkpoint');
  const f: RunFolder = {
    dir, plan, resumed, state, checkpoint,
    saveState: () => writeFileAtomic(path.join(checkpoint, 'state.json'), JSON.stringify(f.state, null, 2)),
  };
  return f;
}

/** Reopens RUN_DIR for --resume: its plan (validated) and its checkpoint's state. */
function reopen(resume: string): RunFolder {
  const dir = path.resolve(resume);
  const planFile = path.join(dir, 'plan.json'), stateFile = path.join(dir, 'checkpoint', 'state.json');
  if (!fs.existsSync(planFile)) throw new RunError(`${dir} is not a tlr run folder: it has no plan.json`);
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
  assertPlan(plan);
  if (fs.existsSync(path.join(dir, 'report.json'))) throw new RunError(`${dir} has already finished (its report.json exists)`);
  const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { stage: 0, epoch: 0, best: null, stageBest: null, sinceBest: 0 };
  return folder(dir, plan, true, state);
}

/**
 * The run's folder: RUN_DIR reopened when resuming, else a new one holding the recipe and its
 * plan. The plan is validated against the schema either way.
 */
export function openRunFolder(opts: { plan: Plan; recipeText: string; resume?: string }, created: string[]): RunFolder {
  if (opts.resume) return reopen(opts.resume);
  assertPlan(opts.plan);
  const dir = newRunDir(opts.plan, created);
  writeFileAtomic(path.join(dir, 'recipe.tlr'), opts.recipeText);
  writeFileAtomic(path.join(dir, 'plan.json'), JSON.stringify(opts.plan, null, 2) + '\n');
  return folder(dir, opts.plan, false, { stage: 0, epoch: 0, best: null, stageBest: null, sinceBest: 0 });
}

/** After a failure: a new run that never finished an epoch leaves nothing behind (nor the runs/ folders made for it). */
export function removeFailedRun(created: readonly string[]): void {
  const [top, dir] = created;
  if (top && dir && !fs.existsSync(path.join(dir, 'metrics.jsonl'))) fs.rmSync(top, { recursive: true, force: true });
}

/** Throws when the plan's `save … to` target may not be replaced (see data/model-folder.ts). */
export function assertSaveTarget(plan: Plan, tail = ''): void {
  if (!plan.save.to) return;
  const data = [plan.data.root, ...[plan.data.validation, plan.data.test].flatMap((s) => (s?.kind === 'data' ? [s.path] : []))];
  const problem = saveTargetProblem(plan.save.to, { data, recipeDir: path.dirname(plan.recipe.file) });
  if (problem) throw new RunError(`cannot save the model to ${plan.save.to}: ${problem}${tail}`);
}
