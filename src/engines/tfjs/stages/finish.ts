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
import { saveModel } from '../model-files.js';
import { writeReportHtml } from '../../../report/report-html.js';
import { writeFileAtomic } from '../../../files/atomic.js';
import { backendLabel } from '../backend.js';
import { TLR_VERSION } from '../../../version.js';
import { toOnnx } from '../onnx/to-onnx.js';
import { onnxMetadata } from '../export.js';
import type { RunContext } from './context.js';
import { assertSaveTarget, readEngineRecord, type RunFolder } from '../../../runtime/run-folder.js';
import { ENVIRONMENT_HEADER, REPORT_HEADER } from '../../../runtime/run-files.js';
import { addToMarker } from '../../../files/owned.js';
import { MODEL_MARKER } from '../../../data/model-folder.js';
import { readContractLines } from '../../../contracts/read.js';

// The end of a run: the best model evaluated on the test split (validation when there is none),
// the extra copy `save … to` asks for, report.json, environment.json and report.html.

export interface Evaluated {
  readonly evaluation: Evaluation;
  readonly predictions: Predictions;
  readonly items: readonly Item[];
}

/** Loads the best weights and evaluates them. */
export async function evaluateBest(ctx: RunContext, f: RunFolder): Promise<Evaluated> {
  const { plan, splits, net } = ctx;
  ctx.loadInto(path.join(f.dir, 'model'));
  const split = splits.test.length ? 'test' : 'validation';
  const items = split === 'test' ? splits.test : splits.validation;
  const allCached = plan.stages.every((st) => st.featureCache.use);
  const batch = Math.max(plan.stages[0]!.batch, 32);
  const classes = plan.data.classes.length,
    probabilities = ctx.meta.output === 'probabilities';
  setFrozen(net, ctx.built.info, ctx.built.info.layers.length);
  const src: BatchSource = allCached
    ? await ctx.cachedFeatures(split, items, batch, false)
    : new ImageSource(items, plan.model.inputSize, ctx.pre, [], ctx.unreadable.of(split, items.length));
  const r = await evaluate(
    allCached ? modelForward(net.head) : await ctx.engines.for(ctx.fullProgram(), items.length, batch),
    src,
    classes,
    probabilities,
    batch,
  );
  src.dispose?.();
  const ev = evaluationOf(split, plan.data.classes, r.y, r.pred, r.loss);
  ctx.events.emit({ type: 'evaluation', evaluation: ev });
  return { evaluation: ev, predictions: r, items };
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
    const bytes = toOnnx(ctx.fullProgram(), {
      softmax: e.softmax && ctx.meta.output === 'logits',
      metadata: onnxMetadata(ctx.meta, e.softmax),
    });
    for (const dir of [path.join(f.dir, 'model'), ...(ctx.plan.save.to ? [ctx.plan.save.to] : [])]) {
      writeFileAtomic(path.join(dir, 'model.onnx'), bytes);
      addToMarker(dir, MODEL_MARKER, 'model.onnx');
      written.push(path.join(dir, 'model.onnx'));
    }
  }
  return written;
}

/** The most confidently wrong predictions, for the report's grid of images. */
function misclassified(ctx: RunContext, e: Evaluated) {
  const r = e.predictions,
    classes = ctx.plan.data.classes;
  return Array.from(r.ids, (id, i) => ({ id, i }))
    .filter(({ i }) => r.pred[i] !== r.y[i])
    .sort((a, b) => r.confidence[b.i]! - r.confidence[a.i]!)
    .slice(0, 24)
    .map(({ id, i }) => {
      const it = e.items[id]!;
      return {
        image:
          it.kind === 'file'
            ? { kind: 'file', path: it.path }
            : it.kind === 'idx'
              ? { kind: 'idx', file: it.images.file, index: it.index }
              : { kind: 'member', shard: it.shard, name: it.name, offset: it.offset, size: it.size },
        label: classes[r.y[i]!],
        predicted: classes[r.pred[i]!],
        confidence: r.confidence[i],
      };
    });
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
  fs.rmSync(f.checkpoint, { recursive: true, force: true });
  await writeReportHtml(f.dir);
  return seconds;
}
