import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf.js';
import type { PlanStage } from '../../../contracts/plan.js';
import { missingTrainingKernels } from '../backend.js';
import { setFrozen, trainsConvolutions } from '../train/network.js';
import { ImageSource, type BatchSource } from '../train/batch-sources.js';
import { evaluate, runStage } from '../train/loop.js';
import { lrSweep, type LrCurve, type SweepOptions } from '../train/range-test.js';
import { PrefixSource, splitFrozen } from '../train/split-stage.js';
import { ShardTrainer, sharesBatches } from '../train/data-parallel.js';
import { microBatches, microBatchOf } from '../memory.js';
import { convThreads, ortKernelsOn } from '../kernels/ort-kernels.js';
import { modelForward } from '../infer/engine.js';
import { cacheRoot } from '../../../runtime/weights/locate.js';
import { loadOptimizer } from '../optimizer-state.js';
import type { RunContext } from './context.js';
import type { RunFolder } from '../../../runtime/run-folder.js';
import { epochRecorder, writeCheckpoint } from './record.js';
import type { MultiLabel } from '../train/loss.js';
import { labelTable, positiveWeights } from '../../../runtime/targets.js';

// One stage of the schedule: its sources (cached features, or images with the frozen part run
// ahead), its epochs with a checkpoint after each, and the hand-over to the next stage.

export interface Prepared {
  readonly train: BatchSource;
  readonly validation: BatchSource;
  /** What the loop trains: the head, the part above the frozen prefix, or the whole network. */
  readonly model: tf.LayersModel;
  readonly cached: boolean;
  /**
   * What validation runs on cached inputs (the head, or the trained part of a split stage); null: the whole network on
   * images.
   */
  readonly validateOn: tf.LayersModel | null;
}

/** Bytes a split stage's prefix cache may take before the stage runs its frozen part every epoch instead. */
const prefixBudget = (env: NodeJS.ProcessEnv): number => Number(env['TLR_PREFIX_CACHE_MB'] ?? 2048) * 1024 ** 2;

/** Whether the frozen part's outputs for `images` fit the budget and the disk; why not, when they do not. */
function prefixFits(ctx: RunContext, shape: readonly number[], images: number): string | null {
  const bytes = images * shape.reduce((a, b) => a * b, 1) * 4,
    mb = (b: number) => `${Math.round(b / 1024 ** 2)} MB`;
  if (bytes > prefixBudget(ctx.env))
    return `its outputs would take ${mb(bytes)}, more than TLR_PREFIX_CACHE_MB (${mb(prefixBudget(ctx.env))})`;
  try {
    let dir = cacheRoot(ctx.env);
    while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir); // the cache may not exist yet
    const st = fs.statfsSync(dir);
    if (st.bavail * st.bsize < bytes * 1.1)
      return `its outputs would take ${mb(bytes)}, and the cache's disk has ${mb(st.bavail * st.bsize)} free`;
  } catch {
    // no statfs here: the write itself will say if the disk fills
  }
  return null;
}

/** The stage's backend: the fast one, or cpu with a warning when it lacks kernels training convolutions needs. */
async function stageBackend(ctx: RunContext, s: number, cached: boolean): Promise<string> {
  if (cached || !trainsConvolutions(ctx.net)) return tf.getBackend();
  const missing = missingTrainingKernels();
  if (!missing.length) return tf.getBackend();
  ctx.events.emit({
    type: 'warning',
    message:
      `the ${tf.getBackend()} backend has no ${missing.join(', ')} kernels, which training convolutions ` +
      `needs: stage ${s + 1} runs on the cpu backend (slower)`,
  });
  await tf.setBackend('cpu');
  return 'cpu';
}

/** Stage `s`'s sources and the model it trains (frozen layers set, caches filled). */
export async function prepareStage(ctx: RunContext, s: number, fastBackend: string): Promise<Prepared> {
  const { plan, splits, net } = ctx,
    stage = plan.stages[s]!;
  setFrozen(net, ctx.built.info, stage.frozen.layers, stage.batchnorm);
  const cached = stage.featureCache.use;
  const backend = await stageBackend(ctx, s, cached);
  // Earlier stages trained backbone layers: cached outputs depend on the weights as they are now.
  const trained = plan.stages.slice(0, s).some((st) => st.trainable.backboneParams > 0);
  if (cached) {
    await tf.setBackend(fastBackend);
    const train = await ctx.cachedFeatures('train', splits.train, Math.max(stage.batch, 32), trained);
    const validation = await ctx.cachedFeatures('validation', splits.validation, Math.max(stage.batch, 32), trained);
    if (backend !== fastBackend) await tf.setBackend(backend);
    return { train, validation, model: net.head, cached, validateOn: net.head };
  }
  if (stage.trainable.backboneParams > 0) ctx.resetBackbone();
  // The frozen part runs ahead as an inference program; the loop trains the rest on its output.
  const split = splitFrozen(net, ctx.built.graph, ctx.built.info, stage.frozen.layers);
  if (split && !plan.data.augment.length) {
    // Nothing augmented: the frozen part's output for an image never changes during the stage, so
    // it is computed once (train and validation), cached on disk, and every epoch trains on it.
    const tooBig = prefixFits(ctx, split.boundary.shape, splits.train.length + splits.validation.length);
    if (!tooBig) {
      const prefix = { program: split.prefix, layer: split.boundary.name, shape: split.boundary.shape };
      const train = await ctx.cachedFeatures('train', splits.train, stage.batch, trained, prefix);
      const validation = await ctx.cachedFeatures('validation', splits.validation, stage.batch, trained, prefix);
      // The stage needs no inference engine until the test pass: its memory (ONNX Runtime's arena,
      // worker threads' heaps) goes back before training takes its own.
      await ctx.engines.close();
      return { train, validation, model: split.top, cached, validateOn: split.top };
    }
    ctx.events.emit({
      type: 'warning',
      message: `stage ${s + 1}'s frozen part runs every epoch instead of once: ${tooBig}`,
    });
  }
  const images = new ImageSource(
    splits.train,
    plan.model.inputSize,
    ctx.pre,
    plan.data.augment,
    ctx.unreadable.of('train', splits.train.length),
  );
  const train = split
    ? new PrefixSource(images, () => ctx.engines.for(split.prefix, splits.train.length, stage.batch))
    : images;
  const validation = new ImageSource(
    splits.validation,
    plan.model.inputSize,
    ctx.pre,
    [],
    ctx.unreadable.of('validation', splits.validation.length),
  );
  return { train, validation, model: split ? split.top : net.full, cached, validateOn: null };
}

/** Frees what prepareStage made. */
export function release(ctx: RunContext, p: Prepared): void {
  p.train.dispose?.();
  // The trained part shares the network's layers: disposing it only drops its hold on them.
  if (p.model !== ctx.net.full && p.model !== ctx.net.head) p.model.dispose();
  p.validation.dispose?.();
}

/** A multi-label run's targets, with positive weights when `weighted` (`class weights auto`); null: single-label. */
export function multiLabelOf(ctx: RunContext, weighted: boolean): MultiLabel | null {
  const sets = ctx.splits.labelSets;
  if (!sets) return null;
  const labels = ctx.plan.data.classes.length;
  const codes = ctx.splits.train.map((it) => it.label);
  return {
    labels,
    table: labelTable(sets, labels),
    posWeights: weighted ? positiveWeights(codes, sets, labels) : null,
  };
}

/** A stage's class weights: inverse class frequencies with `class weights auto` (multi-label: positive weights). */
const stageWeights = (ctx: RunContext, stage: PlanStage): Float32Array | null =>
  stage.classWeights === 'auto' && !ctx.splits.labelSets ? classWeights(ctx) : null;

/** Inverse class frequencies of the training split. */
function classWeights(ctx: RunContext): Float32Array {
  const classes = ctx.plan.data.classes.length;
  const counts = new Array<number>(classes).fill(0);
  for (const it of ctx.splits.train) counts[it.label]! += 1;
  const total = counts.reduce((a, b) => a + b, 0);
  return Float32Array.from(counts, (c) => (c ? total / (classes * c) : 0));
}

/**
 * Worker threads sharing a stage's batches, when it trains backbone layers on a backend that
 * computes on one core and its convolutions are not on ONNX Runtime's threads (sharesBatches):
 * TLR_WORKERS threads in all (one per core by default), this one included. A head on cached
 * features takes a millisecond a batch, less than sending the weights out.
 */
async function stageTrainer(
  ctx: RunContext,
  stage: PlanStage,
  p: Prepared,
  micro: number | undefined,
): Promise<ShardTrainer | null> {
  const threads = ctx.engines.settings.workers.workers,
    backend = tf.getBackend();
  // A batch too large for one wasm heap is too large for each thread's copy of the model too: micro-batches instead.
  if (stage.trainable.backboneParams === 0 || micro || !sharesBatches(backend, threads)) return null;
  return ShardTrainer.start(p.model, threads - 1, backend);
}

/** The backend a stage on one thread reports: with where its convolutions run when it trains backbone layers. */
function stageBackendLabel(stage: PlanStage): string {
  const b = tf.getBackend();
  if (stage.trainable.backboneParams === 0 || b !== 'wasm' || !ortKernelsOn()) return b;
  return `wasm, convolutions on ONNX Runtime (${convThreads()} thread${convThreads() === 1 ? '' : 's'})`;
}

/** Runs stage `s` to its end (or to a stop); 'interrupted' leaves a checkpoint to resume from. */
export async function trainStage(
  ctx: RunContext,
  f: RunFolder,
  s: number,
  fastBackend: string,
): Promise<'done' | 'interrupted'> {
  const { plan, events } = ctx;
  const classes = plan.data.classes.length,
    probabilities = ctx.meta.output === 'probabilities',
    multi = multiLabelOf(ctx, plan.stages[s]!.classWeights === 'auto');
  // The stage's starting point, before its first batch moves anything: a stop or a kill in its
  // first epoch resumes from exactly here.
  if (!fs.existsSync(path.join(f.checkpoint, 'state.json'))) await writeCheckpoint(ctx, f, null, 'none');
  const p = await prepareStage(ctx, s, fastBackend);
  const stage = await withFoundLr(ctx, f, s, p);
  let result: Awaited<ReturnType<typeof runStage>>;
  let trainer: ShardTrainer | null = null;
  const micro = microBatchOf(ctx.plan, stage, tf.getBackend());
  try {
    trainer = await stageTrainer(ctx, stage, p, micro);
    const backend =
      (trainer ? `${tf.getBackend()}, ${trainer.threads} threads` : stageBackendLabel(stage)) +
      (micro ? `, batch ${stage.batch} as ${microBatches(stage.batch, micro)} micro-batches (wasm's heap)` : '');
    events.emit({
      type: 'stage-start',
      stage: s + 1,
      of: plan.stages.length,
      epochs: stage.epochs,
      trainable: stage.trainable.backboneParams + stage.trainable.headParams,
      cached: p.cached,
      backend,
    });
    result = await runStage({
      stageIndex: s,
      stage,
      model: p.model,
      train: p.train,
      classes,
      probabilities,
      seed: plan.seed,
      events,
      validate: async () =>
        evaluate(
          p.validateOn
            ? modelForward(p.validateOn)
            : await ctx.engines.for(ctx.fullProgram(), p.validation.size, stage.batch),
          p.validation,
          classes,
          probabilities,
          stage.batch,
          multi,
        ),
      classWeights: stageWeights(ctx, stage),
      multi,
      startEpoch: f.state.epoch,
      stopped: ctx.stopped,
      onEpoch: epochRecorder(ctx, f, s, stage),
      sinceBest: f.state.sinceBest,
      info: ctx.built.info,
      microBatch: micro,
      restoreOptimizer: async (optimizer) => {
        if (!(await loadOptimizer(optimizer, f.checkpoint)))
          events.emit({
            type: 'warning',
            message:
              `the checkpoint holds no optimizer state: stage ${s + 1} continues with the ` +
              `${stage.optimizer} optimizer's state reset`,
          });
      },
    });
  } finally {
    await trainer?.close();
    release(ctx, p);
  }
  if (result.interrupted) return 'interrupted';
  await nextStage(ctx, f, s, fastBackend);
  return 'done';
}

/**
 * The learning-rate range test on stage `s` as prepareStage set it up: its model, batches, classes and class weights.
 */
export function sweepStage(
  ctx: RunContext,
  s: number,
  p: Prepared,
  o: { seed: number; steps?: number; onStep?: SweepOptions['onStep'] },
): Promise<LrCurve> {
  const stage = ctx.plan.stages[s]!;
  return lrSweep({
    model: p.model,
    train: p.train,
    stage,
    classes: ctx.plan.data.classes.length,
    probabilities: ctx.meta.output === 'probabilities',
    classWeights: stageWeights(ctx, stage),
    multi: multiLabelOf(ctx, stage.classWeights === 'auto'),
    ...o,
  });
}

/**
 * The stage as it trains: with `lr auto`, its initial rate is the finder's suggestion, found on the
 * stage's own batches with the weights it starts from (or the one chosen before a resume).
 */
async function withFoundLr(ctx: RunContext, f: RunFolder, s: number, p: Prepared): Promise<PlanStage> {
  const stage = ctx.plan.stages[s]!;
  if (!stage.lr.auto) return stage;
  const known = f.state.lrFound?.[String(s)];
  let lr: number;
  if (known !== undefined) {
    lr = known;
    ctx.events.emit({
      type: 'lr-found',
      stage: s + 1,
      lr,
      rule: 'chosen before',
      minimum: lr,
      steepest: lr,
      steps: 0,
      resumed: true,
    });
  } else {
    const curve = await sweepStage(ctx, s, p, { seed: ctx.plan.seed + s });
    lr = +curve.suggestion.toPrecision(2);
    f.state.lrFound = { ...f.state.lrFound, [String(s)]: lr };
    ctx.events.emit({
      type: 'lr-found',
      stage: s + 1,
      lr,
      rule: curve.rule,
      minimum: curve.minimum,
      steepest: curve.steepest,
      steps: curve.lrs.length,
    });
  }
  return { ...stage, lr: { ...stage.lr, initial: lr } };
}

/**
 * The next stage starts from this stage's best weights; the checkpoint says so at once, so a run
 * interrupted from here on resumes at the next stage.
 */
async function nextStage(ctx: RunContext, f: RunFolder, s: number, fastBackend: string): Promise<void> {
  if (fs.existsSync(path.join(f.checkpoint, 'stage-best', 'model.json')))
    ctx.loadInto(path.join(f.checkpoint, 'stage-best'));
  if (tf.getBackend() !== fastBackend) await tf.setBackend(fastBackend);
  if (s + 1 >= ctx.plan.stages.length) return;
  f.state = { ...f.state, stage: s + 1, epoch: 0, stageBest: null, sinceBest: 0 };
  await writeCheckpoint(ctx, f, null, 'none');
}
