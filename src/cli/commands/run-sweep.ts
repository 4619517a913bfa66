import * as fs from 'node:fs';
import * as path from 'node:path';
import { expand, type Sweep } from '../../compiler/index.js';
import { engineNamed, DEFAULT_ENGINE, settle } from '../../engines/index.js';
import { recipeDigest } from '../../runtime/provenance.js';
import {
  newSweepFolder,
  readSweep,
  trainableParams,
  variantPlan,
  writeSweep,
  type SweepRecord,
  type SweepVariant,
} from '../../runtime/sweep-folder.js';
import { TlrError } from '../../errors.js';
import type { Plan } from '../../contracts/plan.js';
import type { RunEvent } from '../../runtime/events.js';
import { UsageError, type Output } from '../io.js';
import { chooseEngine, runWithView, type Chosen, type RunFlags } from '../run-session.js';
import { bestVariant, sweepTable } from '../../report/sweep-table.js';
import type { SweepProgress } from '../../ui/components/sweep-progress.js';
import { estimates } from '../estimate-text.js';
import { writeSweepReport } from '../../report/sweep-html.js';
import { sweepGroups } from '../sweep-text.js';
import { lockFolder } from '../../files/lock.js';
import { copyDirAtomic } from '../../files/atomic.js';
import { MODEL_MARKER } from '../../data/model-folder.js';
import { readContract } from '../../contracts/read.js';

// A sweep: the variants of a recipe run in turn, each into its own run folder inside the sweep
// folder, with sweep.json rewritten as each starts and ends. A variant that fails is recorded and
// the sweep goes on; Ctrl-C stops the sweep after the current variant's batch, and
// `tlr run --resume SWEEP_DIR` continues it (an interrupted variant from its checkpoint, a failed
// or pending one from the start). Variants share what tlr caches: downloaded weights, and the
// features of a network at one input size (the feature cache's key does not hold the head or rates).

/** `tlr run` of a recipe with lists of alternatives. */
export async function runSweep(
  recipe: { file: string; text: string; sweep: Sweep },
  flags: RunFlags,
  io: Output,
): Promise<number> {
  const bad = recipe.sweep.variants.filter((v) => !v.plan);
  if (bad.length) return 1; // their diagnostics were printed
  const engine = engineNamed(flags.engine ?? DEFAULT_ENGINE);
  const record: SweepRecord = {
    format: 'tlr-sweep',
    version: 1,
    recipe: { file: path.resolve(recipe.file), digest: recipeDigest(recipe.text) },
    engine: engine.name,
    groups: sweepGroups(recipe.sweep),
    keep: recipe.sweep.keep,
    variants: recipe.sweep.variants.map(({ variant, plan }) => ({
      id: variant.id,
      name: variant.name,
      choices: variant.choices.map((c) => ({ ...c })),
      status: 'pending',
      runDir: null,
      error: null,
      trainableParams: trainableParams(plan!),
      seconds: null,
      screen: null,
      evaluation: null,
      plan: plan!,
    })),
  };
  const dir = newSweepFolder(recipe.sweep.variants[0]!.plan!.output.runsDir, record);
  fs.writeFileSync(path.join(dir, 'recipe.tlr'), recipe.text);
  const texts = new Map(recipe.sweep.variants.map((v) => [v.variant.id, v.variant.text]));
  return sweepLoop(dir, record, texts, flags, io);
}

/** `tlr run --resume SWEEP_DIR`: the variants that did not finish, on the sweep's engine. */
export async function resumeSweep(dir: string, flags: RunFlags, io: Output): Promise<number> {
  const record = readSweep(dir);
  if (flags.engine && flags.engine !== record.engine)
    throw new UsageError(
      `${dir} is a sweep on the ${record.engine} engine; resume it without --engine ${flags.engine}`,
    );
  const left = record.variants.filter((v) => v.status !== 'finished').length;
  io.err(`tlr: resuming the sweep ${dir}: ${left} of ${record.variants.length} variants to run`);
  // Each variant's run folder holds its own text (the recipe with one alternative of each list).
  const file = path.join(dir, 'recipe.tlr');
  const texts = new Map(
    fs.existsSync(file) ? expand(fs.readFileSync(file, 'utf8')).variants.map((v) => [v.id, v.text]) : [],
  );
  return sweepLoop(dir, record, texts, flags, io);
}

/** The sweep's variants run in turn, holding the sweep folder's lock: a second resume would train them twice. */
async function sweepLoop(
  dir: string,
  record: SweepRecord,
  texts: ReadonlyMap<string, string>,
  flags: RunFlags,
  io: Output,
): Promise<number> {
  const release = lockFolder(dir, 'sweep folder');
  try {
    return await sweepVariants(dir, record, texts, flags, io);
  } finally {
    release();
  }
}

async function sweepVariants(
  dir: string,
  record: SweepRecord,
  texts: ReadonlyMap<string, string>,
  flags: RunFlags,
  io: Output,
): Promise<number> {
  const engine = engineNamed(record.engine);
  const fresh: Chosen = { engine, settings: await settle(engine, flags.engineFlags), notes: [] };
  const run = async (todo: SweepVariant[], what: string, screenAfter?: number): Promise<boolean> => {
    for (const [i, v] of todo.entries()) {
      io.err(`tlr: sweep: ${what}variant ${i + 1} of ${todo.length} to run, ${v.id} (${v.name})`);
      const progress = sweepProgress(record, v, i + 1, todo.length);
      if (
        (await runVariant(dir, record, v, texts.get(v.id) ?? '', fresh, flags, io, screenAfter, progress)) ===
        'interrupted'
      ) {
        io.err(`tlr: sweep stopped; continue it with: tlr run --resume ${dir}`);
        return false;
      }
    }
    return true;
  };
  const open = (v: SweepVariant) => v.status !== 'finished' && v.status !== 'stopped early';
  if (record.keep) {
    // Successive halving in one round: every variant trains K epochs, then only the N best go on.
    const { best, after } = record.keep;
    if (
      !(await run(
        record.variants.filter((v) => open(v) && !v.screen),
        `screening, ${after} epochs: `,
        after,
      ))
    )
      return 130;
    keepBest(dir, record, best, io);
  }
  if (!(await run(record.variants.filter(open), ''))) return 130;
  await saveBest(dir, record, io);
  io.out(sweepTable(dir, record).text);
  io.out(`\nwritten: ${writeSweepReport(dir, record)} (the table, and accuracy against trainable parameters and time)`);
  const failed = record.variants.filter((v) => v.status === 'failed');
  const done = record.variants.filter((v) => v.status === 'finished').length;
  const early = record.variants.length - done - failed.length;
  io.err(
    `tlr: sweep ${dir}: ${done} of ${record.variants.length} variants finished` +
      (early ? `, ${early} stopped early` : '') +
      (failed.length
        ? `; failed: ${failed.map((v) => v.id).join(', ')} (tlr run --resume ${dir} runs them again)`
        : ''),
  );
  return failed.length ? 1 : 0;
}

/** `save … to` in a sweep: the best variant's model (by the sweep table's ranking) is copied there, once. */
async function saveBest(dir: string, record: SweepRecord, io: Output): Promise<void> {
  const best = bestVariant(record);
  const to = best?.plan.save.to;
  if (!best || !to || !best.runDir) return;
  await copyDirAtomic(path.join(path.resolve(dir, best.runDir), 'model'), to, MODEL_MARKER);
  io.err(`tlr: sweep: saved the best variant's model, ${best.id} (${best.name}), to ${to}`);
}

/** After the screen: the variants outside the `best` by validation accuracy stop where they are. */
function keepBest(dir: string, record: SweepRecord, best: number, io: Output): void {
  const ranked = record.variants.filter((v) => v.screen).sort((a, b) => b.screen!.valAccuracy - a.screen!.valAccuracy);
  const kept = new Set(ranked.slice(0, best));
  for (const v of ranked) if (!kept.has(v) && v.status === 'screened') set(dir, record, v, { status: 'stopped early' });
  io.err(
    `tlr: sweep: keeping ` +
      `${[...kept].map((v) => `${v.id} (val ${(v.screen!.valAccuracy * 100).toFixed(2)}%)`).join(', ')}`,
  );
}

/** Runs one variant (resuming its run folder when it has a checkpoint) and records how it went. */
async function runVariant(
  dir: string,
  record: SweepRecord,
  v: SweepVariant,
  text: string,
  fresh: Chosen,
  flags: RunFlags,
  io: Output,
  screenAfter?: number,
  progress?: SweepProgress,
): Promise<'finished' | 'failed' | 'interrupted' | 'screened'> {
  const previous = v.runDir ? path.resolve(dir, v.runDir) : null;
  const resume = previous && fs.existsSync(path.join(previous, 'checkpoint')) ? previous : undefined;
  // A variant resumed keeps the settings its run recorded, as `tlr run --resume RUN_DIR` does.
  const chosen = resume ? await chooseEngine({ ...flags, engine: undefined, resume }) : fresh;
  set(dir, record, v, { status: 'running', error: null });
  const t0 = performance.now();
  const screen = screenAfter ? screenAt(v.plan, screenAfter) : null;
  try {
    const r = await runWithView(
      chosen,
      {
        plan: resume ? undefined : variantPlan(dir, v),
        recipeText: text,
        resume,
        stopWhen: screen?.seen,
        sweep: progress,
      },
      flags,
      io,
    );
    const e = r.evaluation;
    const screened = r.status === 'interrupted' && screen?.reached();
    // A finished run's own time (report.json): the engine's start-up, which only the first variant pays, is not the
    // variant's.
    const report = path.join(r.runDir, 'report.json');
    const own = r.status === 'finished' && fs.existsSync(report) ? readContract('report', report).seconds : null;
    set(dir, record, v, {
      status: screened ? 'screened' : r.status,
      runDir: path.relative(dir, r.runDir),
      seconds: (v.seconds ?? 0) + (own ?? (performance.now() - t0) / 1000),
      screen: screen?.result() ?? v.screen,
      evaluation: e
        ? { split: e.split, accuracy: e.accuracy, macroF1: e.macroF1, ...(e.map !== undefined ? { map: e.map } : {}) }
        : null,
    });
    return screened ? 'screened' : r.status;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const message = e instanceof TlrError ? e.message : `internal error: ${(e as Error).stack ?? e}`;
    if (!(e instanceof TlrError)) io.err(`tlr: variant ${v.id} failed: ${message}`);
    set(dir, record, v, { status: 'failed', error: message, runDir: latestRun(dir, v.id) ?? v.runDir });
    return 'failed';
  }
}

/**
 * Where the sweep stands as variant `v` starts (the live view shows it): runs done, failures, the best so far, and
 * the time left: the finished variants' mean time times the variants still to run, or before one has finished, the
 * calibrated estimates (tlr doctor --calibrate).
 */
export function sweepProgress(record: SweepRecord, v: SweepVariant, index: number, of: number): SweepProgress {
  const finished = record.variants.filter((x) => x.status === 'finished');
  const timed = finished.filter((x) => x.seconds !== null);
  const left = record.variants.filter((x) => !['finished', 'failed', 'stopped early'].includes(x.status));
  const best = bestVariant(record);
  return {
    total: record.variants.length,
    done: finished.length,
    failed: record.variants.filter((x) => x.status === 'failed').length,
    current: { index, of, id: v.id, name: v.name },
    best: best ? { id: best.id, name: best.name, accuracy: best.evaluation!.accuracy } : null,
    secondsLeft: timed.length
      ? (timed.reduce((t, x) => t + x.seconds!, 0) / timed.length) * left.length
      : estimated(left, record.engine),
  };
}

/** Before any variant has finished: the calibrated estimates of the variants left on the sweep's engine, or null. */
function estimated(left: readonly SweepVariant[], engine: string): number | null {
  const each = left.map((x) => estimates(x.plan).find((e) => e.engine === engine)?.seconds ?? null);
  return each.length && each.every((t) => t !== null) ? each.reduce((a, b) => a! + b!, 0)! : null;
}

/** Changes a variant's record and rewrites sweep.json. */
function set(dir: string, record: SweepRecord, v: SweepVariant, change: Partial<SweepVariant>): void {
  Object.assign(v, change);
  writeSweep(dir, record);
}

/** The newest run folder of a variant, relative to the sweep folder. */
function latestRun(dir: string, id: string): string | null {
  const d = path.join(dir, id);
  if (!fs.existsSync(d)) return null;
  const runs = fs
    .readdirSync(d)
    .filter((n) => fs.statSync(path.join(d, n)).isDirectory())
    .sort();
  return runs.length ? path.join(id, runs.at(-1)!) : null;
}

/**
 * Watches a variant's epochs for the sweep's screen: `seen` says stop once the run has trained `after` epochs in all
 * (counting every stage's, from the plan), `result` is the validation accuracy of the last epoch seen (multi-label:
 * its validation mAP, which ranks variants better than the subset accuracy).
 */
function screenAt(plan: Plan, after: number) {
  const before = plan.stages.map((_, i) => plan.stages.slice(0, i).reduce((n, s) => n + s.epochs, 0));
  let last: { epochs: number; valAccuracy: number } | null = null;
  return {
    seen: (e: RunEvent): boolean => {
      if (e.type !== 'epoch') return false;
      const acc = e.metrics.val_map ?? e.metrics.val_accuracy;
      last = { epochs: before[e.stage - 1]! + e.epoch, valAccuracy: acc !== null && Number.isFinite(acc) ? acc : 0 };
      return last.epochs >= after;
    },
    reached: () => last !== null && last.epochs >= after,
    result: () => last,
  };
}
