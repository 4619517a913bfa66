import { recipeProvenance } from './provenance.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Plan } from '../contracts/plan.js';
import { ContractFileError, readContract, readContractLines, type Contracts } from '../contracts/read.js';
import { assertPlan } from '../contracts/validate.js';
import { alive, recoverDir, writeFileAtomic } from '../files/atomic.js';
import { saveTargetProblem } from '../data/model-folder.js';
import { TlrError } from '../errors.js';
import { lockFolder } from '../files/lock.js';

// The run folder: made new (runs/<recipe>/<timestamp>/) or reopened by --resume, with the
// checkpoint's state; and what a failed run leaves (nothing, when it failed before its first epoch).

/** A run that cannot go on: its message says why and what to do. */
export class RunError extends TlrError {}

/** Where the schedule stands; checkpointed after every epoch. */
export interface RunState {
  /** Index of the stage under way, and epochs it has completed. */
  stage: number;
  epoch: number;
  /** `second`: the tie-break metric's value at that epoch (absent in checkpoints before it). */
  best: { value: number; second?: number; stage: number; epoch: number } | null;
  stageBest: { value: number; second?: number; epoch: number } | null;
  sinceBest: number;
  /**
   * `lr auto`: the rate the finder chose for each stage that has one (by 0-based stage), kept so that a resumed stage
   * goes on with it.
   */
  lrFound?: Record<string, number>;
}

/** Which engine made a run folder, with its settings (engine.json): a resume goes on with both. */
export type EngineRecord = Contracts['engine'];

export const ENGINE_FILE = 'engine.json';

/** The run folder's engine record; null for folders older than it. A RunError names a damaged one. */
export function readEngineRecord(dir: string): EngineRecord | null {
  const file = path.join(dir, ENGINE_FILE);
  if (!fs.existsSync(file)) return null;
  try {
    return readContract('engine', file);
  } catch (e) {
    if (!(e instanceof ContractFileError)) throw e;
    throw new RunError(
      `${e.message}: write {"engine": "tfjs", "settings": {}} (or the engine the run used) into it, or start ` +
        `the run again`,
    );
  }
}

export interface RunFolder {
  readonly dir: string;
  readonly plan: Plan;
  readonly resumed: boolean;
  state: RunState;
  /** RUN_DIR/checkpoint. */
  readonly checkpoint: string;
  /** Gives the folder's lock back (the run ended); also done when the process exits. */
  readonly release: () => void;
}

export const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/**
 * Marks a run folder as this process's until its first epoch; a folder whose process died before that is removed by the
 * next run.
 */
const RUN_MARKER = '.tlr-run';

/**
 * Run folders of this recipe left by a process killed before its first epoch (its marker names a dead process, no
 * metrics).
 */
function removeAbandoned(runs: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(runs);
  } catch {
    return;
  }
  for (const n of names) {
    const dir = path.join(runs, n),
      marker = path.join(dir, RUN_MARKER);
    if (!fs.existsSync(marker) || fs.existsSync(path.join(dir, 'metrics.jsonl'))) continue;
    // PID and host: a run of this recipe on another machine (a shared file system) is never judged by local PIDs.
    const [pidText, host] = fs.readFileSync(marker, 'utf8').trim().split(/\s+/);
    const pid = Number(pidText);
    if (host !== undefined && host !== os.hostname()) continue;
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A new run folder; `created` gets the topmost folder this made and the run folder, so a failed run can remove all of
 * it.
 */
function newRunDir(plan: Plan, created: string[]): string {
  removeAbandoned(plan.output.runsDir);
  const dir = newOutputDir(plan.output.runsDir, stamp(new Date()), created);
  fs.writeFileSync(path.join(dir, RUN_MARKER), `${process.pid} ${os.hostname()}\n`);
  return dir;
}

/**
 * A new folder `runsDir/name` (name-2, -3… when taken), for a run or a sweep; `created` gets the first folder made and
 * it. A runs folder tlr made gets a .gitignore: run folders are outputs, not sources (commit tlr.lock instead).
 */
export function newOutputDir(runsDir: string, name: string, created: string[] = []): string {
  const base = path.join(runsDir, name);
  let dir = base;
  for (let i = 2; fs.existsSync(dir); i++) dir = `${base}-${i}`;
  const top = fs.mkdirSync(dir, { recursive: true });
  created.push(top ?? dir, dir);
  const runs = path.dirname(runsDir);
  if (top && (top === runs || runs.startsWith(`${top}${path.sep}`)))
    fs.writeFileSync(
      path.join(runs, '.gitignore'),
      '# Written by tlr: run folders are outputs; commit recipes and tlr.lock.\n*\n',
    );
  return dir;
}

function folder(dir: string, plan: Plan, resumed: boolean, state: RunState, release: () => void): RunFolder {
  return { dir, plan, resumed, state, checkpoint: path.join(dir, 'checkpoint'), release };
}

/** The checkpoint's state, checked field by field; a RunError names the file and what is wrong. */
function readState(file: string, plan: Plan): RunState {
  let s: RunState;
  try {
    s = structuredClone(readContract('checkpointState', file)) as RunState;
  } catch (e) {
    if (!(e instanceof ContractFileError)) throw e;
    throw new RunError(`${e.message}. The run cannot be resumed from it: start it again with tlr run`);
  }
  const int = (v: unknown, max: number) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;
  const point = (b: unknown, withStage: boolean) =>
    b === null ||
    (typeof b === 'object' &&
      typeof (b as { value: unknown }).value === 'number' &&
      int((b as { epoch: unknown }).epoch, 1e6) &&
      (!withStage || int((b as { stage: unknown }).stage, plan.stages.length)));
  const ok =
    s !== null &&
    typeof s === 'object' &&
    int(s.stage, plan.stages.length - 1) &&
    int(s.epoch, plan.stages[s.stage]?.epochs ?? 0) &&
    int(s.sinceBest, 1e6) &&
    point(s.best, true) &&
    point(s.stageBest, false);
  if (!ok)
    throw new RunError(
      `${file} does not describe a point in this run's schedule (a field is missing or out of range); the run ` +
        `cannot be resumed from it. Start it again with tlr run`,
    );
  return s;
}

/**
 * metrics.jsonl as of the checkpoint: a process killed after writing an epoch's line but before
 * its checkpoint would otherwise get that epoch twice, and one killed mid-line leaves half a line.
 */
function trimMetrics(file: string, state: RunState): void {
  if (!fs.existsSync(file)) return;
  const text = fs.readFileSync(file, 'utf8');
  const rows = readContractLines('metrics', file, { lastMayBeCut: true });
  const keep = rows.filter((m) => m.stage - 1 < state.stage || (m.stage - 1 === state.stage && m.epoch <= state.epoch));
  const kept = keep.map((m) => `${JSON.stringify(m)}\n`).join('');
  if (keep.length !== rows.length || kept.length !== text.length) writeFileAtomic(file, kept);
}

/** Reopens RUN_DIR for --resume: its plan (validated) and its checkpoint's state. */
function reopen(resume: string): RunFolder {
  const dir = path.resolve(resume);
  const planFile = path.join(dir, 'plan.json'),
    stateFile = path.join(dir, 'checkpoint', 'state.json');
  if (!fs.existsSync(planFile)) throw new RunError(`${dir} is not a tlr run folder: it has no plan.json`);
  const plan = readContract('plan', planFile);
  if (fs.existsSync(path.join(dir, 'report.json')))
    throw new RunError(`${dir} has already finished (its report.json exists)`);
  // One process at a time: a second resume would train the same epochs again and write them twice.
  const release = lockFolder(dir, 'run folder');
  // A process killed while it replaced its checkpoint left the old one beside it (put back when
  // the new one never arrived) or a leftover: settled before the state is read.
  recoverDir(path.join(dir, 'checkpoint'));
  const state = fs.existsSync(stateFile)
    ? readState(stateFile, plan)
    : { stage: 0, epoch: 0, best: null, stageBest: null, sinceBest: 0 };
  trimMetrics(path.join(dir, 'metrics.jsonl'), state);
  return folder(dir, plan, true, state, release);
}

/**
 * The run's folder: RUN_DIR reopened when resuming, else a new one holding the recipe and its
 * plan. The plan is validated against the schema either way.
 */
export function openRunFolder(
  opts: { plan: Plan; recipeText: string; resume?: string; engine: EngineRecord },
  created: string[],
): RunFolder {
  if (opts.resume) return reopen(opts.resume);
  assertPlan(opts.plan);
  const dir = newRunDir(opts.plan, created);
  const release = lockFolder(dir, 'run folder');
  const record: EngineRecord = { ...opts.engine, recipe: recipeProvenance(opts.plan.recipe.file, opts.recipeText) };
  writeFileAtomic(path.join(dir, ENGINE_FILE), `${JSON.stringify(record, null, 2)}\n`);
  writeFileAtomic(path.join(dir, 'recipe.tlr'), opts.recipeText);
  writeFileAtomic(path.join(dir, 'plan.json'), `${JSON.stringify(opts.plan, null, 2)}\n`);
  return folder(dir, opts.plan, false, { stage: 0, epoch: 0, best: null, stageBest: null, sinceBest: 0 }, release);
}

/**
 * After a failure: a new run that never finished an epoch leaves nothing behind (nor the runs/ folders made for it).
 */
export function removeFailedRun(created: readonly string[]): void {
  const [top, dir] = created;
  if (top && dir && !fs.existsSync(path.join(dir, 'metrics.jsonl'))) fs.rmSync(top, { recursive: true, force: true });
}

/** Every data folder (or CSV file) a plan reads: what no output of tlr may be written into. */
export const dataFolders = (plan: Plan): string[] => [
  plan.data.root,
  ...[plan.data.validation, plan.data.test].flatMap((s) => (s?.kind === 'data' ? [s.path] : [])),
];

/**
 * The data folders of the run beside a model folder (RUN_DIR/model: RUN_DIR/plan.json), or none
 * when it is not a run's own model folder (a `save … to` copy, a folder from elsewhere).
 */
export function dataFoldersOfModel(modelDir: string): string[] {
  const planFile = path.join(path.dirname(path.resolve(modelDir)), 'plan.json');
  try {
    return dataFolders(readContract('plan', planFile));
  } catch {
    return [];
  }
}

/** Throws when the plan's `save … to` target may not be replaced (see data/model-folder.ts). */
export function assertSaveTarget(plan: Plan, tail = ''): void {
  if (!plan.save.to) return;
  const problem = saveTargetProblem(plan.save.to, {
    data: dataFolders(plan),
    recipeDir: path.dirname(plan.recipe.file),
  });
  if (problem) throw new RunError(`cannot save the model to ${plan.save.to}: ${problem}${tail}`);
}
