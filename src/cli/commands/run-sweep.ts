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
import { UsageError, type Output } from '../io.js';
import { chooseEngine, runWithView, type Chosen, type RunFlags } from '../run-session.js';
import { sweepTable } from '../../report/sweep-table.js';
import { sweepGroups } from '../sweep-text.js';

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
    variants: recipe.sweep.variants.map(({ variant, plan }) => ({
      id: variant.id,
      name: variant.name,
      choices: variant.choices,
      status: 'pending',
      runDir: null,
      error: null,
      trainableParams: trainableParams(plan!),
      seconds: null,
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

async function sweepLoop(
  dir: string,
  record: SweepRecord,
  texts: ReadonlyMap<string, string>,
  flags: RunFlags,
  io: Output,
): Promise<number> {
  const engine = engineNamed(record.engine);
  const fresh: Chosen = { engine, settings: await settle(engine, flags.engineFlags), notes: [] };
  const todo = record.variants.filter((v) => v.status !== 'finished');
  for (const [i, v] of todo.entries()) {
    io.err(`tlr: sweep: variant ${i + 1} of ${todo.length} to run, ${v.id} (${v.name})`);
    const outcome = await runVariant(dir, record, v, texts.get(v.id) ?? '', fresh, flags, io);
    if (outcome === 'interrupted') {
      io.err(`tlr: sweep stopped; continue it with: tlr run --resume ${dir}`);
      return 130;
    }
  }
  io.out(sweepTable(dir, record).text);
  const failed = record.variants.filter((v) => v.status === 'failed');
  io.err(
    `tlr: sweep ${dir}: ${record.variants.length - failed.length} of ${record.variants.length} variants finished` +
      (failed.length
        ? `; failed: ${failed.map((v) => v.id).join(', ')} (tlr run --resume ${dir} runs them again)`
        : ''),
  );
  return failed.length ? 1 : 0;
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
): Promise<'finished' | 'failed' | 'interrupted'> {
  const previous = v.runDir ? path.resolve(dir, v.runDir) : null;
  const resume = previous && fs.existsSync(path.join(previous, 'checkpoint')) ? previous : undefined;
  // A variant resumed keeps the settings its run recorded, as `tlr run --resume RUN_DIR` does.
  const chosen = resume ? await chooseEngine({ ...flags, engine: undefined, resume }) : fresh;
  set(dir, record, v, { status: 'running', error: null });
  const t0 = performance.now();
  try {
    const r = await runWithView(
      chosen,
      { plan: resume ? undefined : variantPlan(dir, v), recipeText: text, resume },
      flags,
      io,
    );
    const e = r.evaluation;
    set(dir, record, v, {
      status: r.status,
      runDir: path.relative(dir, r.runDir),
      seconds: (v.seconds ?? 0) + (performance.now() - t0) / 1000,
      evaluation: e ? { split: e.split, accuracy: e.accuracy, macroF1: e.macroF1 } : null,
    });
    return r.status;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const message = e instanceof TlrError ? e.message : `internal error: ${(e as Error).stack ?? e}`;
    if (!(e instanceof TlrError)) io.err(`tlr: variant ${v.id} failed: ${message}`);
    set(dir, record, v, { status: 'failed', error: message, runDir: latestRun(dir, v.id) ?? v.runDir });
    return 'failed';
  }
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
