import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import type { Evaluation } from '../../../runtime/events.js';
import type { Item } from '../../../runtime/images/dataset.js';
import { setFrozen } from '../train/network.js';
import { ImageSource, type BatchSource } from '../train/batch-sources.js';
import { evaluate, type Predictions } from '../train/loop.js';
import { evaluation as evaluationOf } from '../train/metrics.js';
import { modelForward } from '../infer/engine.js';
import { labelThresholds, preprocessingJson, saveModel } from '../model-files.js';
import type { MultiLabel } from '../train/loss.js';
import { multiLabelOf } from './stage.js';
import { bestThresholds, matrixOf, multiLabelReport } from '../../../runtime/multi-label.js';
import { truthRows } from '../../../runtime/targets.js';
import { writeReportHtml } from '../../../report/report-html.js';
import { writeFileAtomic } from '../../../files/atomic.js';
import { backendLabel } from '../backend.js';
import { TLR_VERSION } from '../../../version.js';
import { toOnnx } from '../onnx/to-onnx.js';
import { onnxOptions } from '../export.js';
import type { RunContext } from './context.js';
import { assertSaveTarget, readEngineRecord, type RunFolder } from '../../../runtime/run-folder.js';
import { ENVIRONMENT_HEADER, REPORT_HEADER } from '../../../runtime/run-files.js';
import { addToMarker } from '../../../files/owned.js';
import { MODEL_MARKER } from '../../../data/model-folder.js';
import { readContractLines } from '../../../contracts/read.js';
import { describeItem } from '../../../runtime/images/dataset.js';
import { stringify } from 'csv-stringify/sync';
import { CSV_SAFE } from '../../../escape.js';

// The end of a run: the best model evaluated on the test split (validation when there is none),
// the extra copy `save … to` asks for, report.json, environment.json and report.html.

export interface Evaluated {
  readonly evaluation: Evaluation;
  readonly predictions: Predictions;
  readonly items: readonly Item[];
}

/** The best weights' predictions on one part (the weights loaded, every layer frozen). */
async function predictionsOn(
  ctx: RunContext,
  split: 'test' | 'validation',
  items: readonly Item[],
  multi: MultiLabel | null,
): Promise<Predictions> {
  const { plan, net } = ctx;
  const allCached = plan.stages.every((st) => st.featureCache.use);
  const batch = Math.max(plan.stages[0]!.batch, 32);
  const src: BatchSource = allCached
    ? await ctx.cachedFeatures(split, items, batch, false)
    : new ImageSource(items, plan.model.inputSize, ctx.pre, [], ctx.unreadable.of(split, items.length));
  try {
    const forward = allCached ? modelForward(net.head) : await ctx.engines.for(ctx.fullProgram(), items.length, batch);
    const probabilities = ctx.meta.output === 'probabilities';
    return await evaluate(forward, src, plan.data.classes.length, probabilities, batch, multi);
  } finally {
    src.dispose?.();
  }
}

/** Loads the best weights and evaluates them (multi-label: at thresholds chosen on the validation part). */
export async function evaluateBest(ctx: RunContext, f: RunFolder): Promise<Evaluated> {
  const { plan, splits, net } = ctx;
  ctx.loadInto(path.join(f.dir, 'model'));
  const split = splits.test.length ? 'test' : 'validation';
  const items = split === 'test' ? splits.test : splits.validation;
  setFrozen(net, ctx.built.info, ctx.built.info.layers.length);
  // The reported loss is the plain one: positive weights shaped training, not the measure.
  const multi = multiLabelOf(ctx, false);
  const r = await predictionsOn(ctx, split, items, multi);
  const ev = multi
    ? await multiLabelBest(ctx, f, split, r, multi)
    : evaluationOf(split, plan.data.classes, r.y, r.pred, r.loss);
  ctx.events.emit({ type: 'evaluation', evaluation: ev });
  return { evaluation: ev, predictions: r, items };
}

/**
 * Multi-label: each label's F1-optimal threshold on the validation part, written into the model folder's
 * preprocessing.json (and kept for the `save … to` copy and exports), then the metrics of `r` at those thresholds.
 */
async function multiLabelBest(
  ctx: RunContext,
  f: RunFolder,
  split: 'test' | 'validation',
  r: Predictions,
  multi: MultiLabel,
): Promise<Evaluation> {
  const sets = ctx.splits.labelSets ?? [],
    L = multi.labels;
  const val = split === 'validation' ? r : await predictionsOn(ctx, 'validation', ctx.splits.validation, multi);
  const thresholds = bestThresholds(matrixOf(val.probs, L), truthRows(val.y, sets, L), L);
  ctx.meta = { ...ctx.meta, thresholds };
  writeFileAtomic(
    path.join(f.dir, 'model', 'preprocessing.json'),
    `${JSON.stringify(preprocessingJson(ctx.meta), null, 2)}\n`,
  );
  const names = ctx.plan.data.classes;
  return multiLabelReport(split, matrixOf(r.probs, L), truthRows(r.y, sets, L), names, thresholds, r.loss);
}

/**
 * `save … to PATH`: checked when the recipe was compiled and when the run started, and again now (the folder may have
 * changed).
 */
export async function saveCopy(ctx: RunContext, f: RunFolder): Promise<void> {
  if (!ctx.plan.save.to) return;
  assertSaveTarget(ctx.plan, `; the run's own copy is in ${path.join(f.dir, 'model')}`);
  await saveModel(ctx.net.full, ctx.plan.save.to, ctx.meta);
}

/** `export onnx`: model.onnx inside the run's model folder (and the `save … to` copy), from the best weights. */
export async function writeExports(ctx: RunContext, f: RunFolder): Promise<string[]> {
  const written: string[] = [];
  for (const e of ctx.plan.save.exports ?? []) {
    const bytes = toOnnx(ctx.fullProgram(), onnxOptions(ctx.meta, e.softmax));
    for (const dir of [path.join(f.dir, 'model'), ...(ctx.plan.save.to ? [ctx.plan.save.to] : [])]) {
      writeFileAtomic(path.join(dir, 'model.onnx'), bytes);
      addToMarker(dir, MODEL_MARKER, 'model.onnx');
      written.push(path.join(dir, 'model.onnx'));
    }
  }
  return written;
}

/** Where an item's image is, as report.json names it. */
const imageOf = (it: Item) =>
  it.kind === 'file'
    ? { kind: 'file', path: it.path }
    : it.kind === 'idx'
      ? { kind: 'idx', file: it.images.file, index: it.index }
      : { kind: 'member', shard: it.shard, name: it.name, offset: it.offset, size: it.size };

/** The most confidently wrong predictions, for the report's grid of images. */
function misclassified(ctx: RunContext, e: Evaluated) {
  if (ctx.splits.labelSets) return misLabelled(ctx, e);
  const r = e.predictions,
    classes = ctx.plan.data.classes;
  return Array.from(r.ids, (id, i) => ({ id, i }))
    .filter(({ i }) => r.pred[i] !== r.y[i])
    .sort((a, b) => r.confidence[b.i]! - r.confidence[a.i]!)
    .slice(0, 24)
    .map(({ id, i }) => ({
      image: imageOf(e.items[id]!),
      label: classes[r.y[i]!],
      predicted: classes[r.pred[i]!],
      confidence: r.confidence[i],
    }));
}

/**
 * Multi-label: the images whose predicted labels (at the thresholds) are not theirs, the most confidently wrong
 * first: `label` and `predicted` are label lists, `confidence` the probability of the surest wrong decision.
 */
function misLabelled(ctx: RunContext, e: Evaluated) {
  const r = e.predictions,
    names = ctx.plan.data.classes,
    L = names.length,
    t = labelThresholds(ctx.meta)!,
    sets = ctx.splits.labelSets ?? [];
  const rows = Array.from(r.ids, (id, i) => {
    const truth = new Set(sets[r.y[i]!] ?? []),
      said: number[] = [];
    let worst = -1;
    for (let l = 0; l < L; l++) {
      const p = r.probs[i * L + l]!,
        yes = p >= t[l]!;
      if (yes) said.push(l);
      if (yes !== truth.has(l)) worst = Math.max(worst, yes ? p : 1 - p);
    }
    return { id, truth: [...truth], said, worst };
  });
  const list = (ls: readonly number[]) => ls.map((l) => names[l]!).join(', ') || '(none)';
  return rows
    .filter((x) => x.worst >= 0)
    .sort((a, b) => b.worst - a.worst)
    .slice(0, 24)
    .map((x) => ({
      image: imageOf(e.items[x.id]!),
      label: list(x.truth),
      predicted: list(x.said),
      confidence: x.worst,
    }));
}

/**
 * predictions.csv: each evaluated image, its label(s), the prediction (multi-label: the labels at their thresholds,
 * separated by `;`) and its probability of every class, so anyone can compute the metrics again.
 */
function predictionsCsv(ctx: RunContext, e: Evaluated): string {
  const r = e.predictions,
    names = ctx.plan.data.classes,
    L = names.length,
    sets = ctx.splits.labelSets;
  const t = labelThresholds(ctx.meta);
  const rows = Array.from(r.ids, (id, i) => {
    const p = Array.from(r.probs.subarray(i * L, (i + 1) * L));
    const truth = sets ? sets[r.y[i]!]!.map((l) => names[l]!).join(';') : names[r.y[i]!]!;
    const said = t ? names.filter((_, l) => p[l]! >= t[l]!).join(';') : names[r.pred[i]!]!;
    return [describeItem(e.items[id]!), truth, said, ...p];
  });
  const header = ['image', sets ? 'labels' : 'label', 'predicted', ...names.map((n) => `p:${n}`)];
  return stringify(rows, { header: true, columns: header, ...CSV_SAFE });
}

/** report.json, environment.json and report.html; the checkpoint goes. Returns the run's seconds. */
export async function writeResults(ctx: RunContext, f: RunFolder, e: Evaluated, started: number): Promise<number> {
  const { plan, splits, built } = ctx;
  const seconds = (Date.now() - started) / 1000;
  const best = f.state.best!;
  const epochs = readContractLines('metrics', path.join(f.dir, 'metrics.jsonl'));
  const trainSeconds = epochs.reduce((a, x) => a + x.seconds, 0);
  const backend = backendLabel(ctx.backend);
  writeFileAtomic(
    path.join(f.dir, 'report.json'),
    `${JSON.stringify(
      {
        ...REPORT_HEADER,
        recipe: plan.recipe.name,
        best: { metric: plan.save.metric, value: best.value, stage: best.stage + 1, epoch: best.epoch + 1 },
        evaluation: e.evaluation,
        misclassified: misclassified(ctx, e),
        unreadable: ctx.unreadable.counts,
        seconds,
        backend,
        ...(f.state.lrFound
          ? { lrAuto: Object.entries(f.state.lrFound).map(([s, lr]) => ({ stage: Number(s) + 1, lr })) }
          : {}),
        training: {
          epochs: epochs.length,
          seconds: trainSeconds,
          images: splits.train.length,
          imagesPerSecond: trainSeconds ? (splits.train.length * epochs.length) / trainSeconds : null,
        },
      },
      null,
      2,
    )}\n`,
  );
  writeFileAtomic(
    path.join(f.dir, 'environment.json'),
    `${JSON.stringify(
      {
        ...ENVIRONMENT_HEADER,
        tlr: TLR_VERSION,
        engine: 'tfjs',
        node: process.version,
        tfjs: tf.version.tfjs,
        backend,
        platform: `${os.platform()} ${os.arch()}`,
        cpus: os.cpus().length,
        inference: {
          engine: ctx.engines.inference.engine,
          ran: ctx.engines.label ?? null,
          why: ctx.engines.inference.why,
        },
        seed: plan.seed,
        recipe: readEngineRecord(f.dir)?.recipe ?? null,
        weights: built.files ? { from: built.files.from, entry: built.files.entry, sha256: built.files.sha256 } : null,
      },
      null,
      2,
    )}\n`,
  );
  writeFileAtomic(path.join(f.dir, 'predictions.csv'), predictionsCsv(ctx, e));
  fs.rmSync(f.checkpoint, { recursive: true, force: true });
  await writeReportHtml(f.dir);
  return seconds;
}
