import { tf } from '../tf.js';
import { TlrError } from '../../../errors.js';
import type { PlanStage } from '../../../contracts/plan.js';
import { metricValue, type EngineMetrics, type Events } from '../../../runtime/events.js';
import { concatFloats, trainingBatchCount } from '../../../runtime/batches.js';
import { through, type BatchSource } from './batch-sources.js';
import type { Forward } from '../infer/engine.js';
import type { ModelInfo } from '../../../zoo/catalog.js';
import { learningRate, setLearningRate, stageOptimizer } from './optimizer.js';
import { shardRows, type ShardTrainer } from './data-parallel.js';
import { batchHits, batchLoss, type MultiLabel } from './loss.js';
import { matrixOf, meanAveragePrecision } from '../../../runtime/multi-label.js';
import { lossDenominator, movingStats, shardGradients, type LossSpec } from './shard-math.js';

export { batchLoss };

// One stage's epochs: a custom loop (not fit) so every batch reports, Ctrl-C stops after the
// current batch, and learning-rate schedules, class weights and early stopping follow the plan.

export interface StageRun {
  readonly stageIndex: number;
  readonly stage: PlanStage;
  readonly model: tf.LayersModel;
  readonly train: BatchSource;
  /** Loss and accuracy (and mAP, multi-label) on the validation split with the weights as they are now. */
  readonly validate: () => Promise<{ loss: number; accuracy: number; map?: number | null }>;
  readonly classes: number;
  readonly classWeights: Float32Array | null;
  /** Multi-label targets (labels are codes of label sets); null: one label per image. */
  readonly multi?: MultiLabel | null;
  /** The last layer already applies softmax (a head written `dense(N, softmax)`). */
  readonly probabilities: boolean;
  readonly seed: number;
  readonly events: Events;
  readonly startEpoch: number;
  readonly stopped: () => boolean;
  /** Called after every epoch with its metrics and the early-stopping count (epochs without improvement). */
  readonly onEpoch: (
    epoch: number,
    m: EngineMetrics,
    lr: number,
    seconds: number,
    sinceBest: number,
    optimizer: tf.Optimizer,
  ) => Promise<boolean>;
  /** Restores the optimizer's state when the stage continues from a checkpoint (startEpoch > 0). */
  readonly restoreOptimizer?: (optimizer: tf.Optimizer) => Promise<void>;
  /** Early stopping state carried across a resume. */
  readonly sinceBest?: number;
  /** The catalog of the model's backbone: `lr LOW..HIGH` finds each layer's block in it. */
  readonly info?: ModelInfo;
  /** Worker threads that each take a shard of every batch (shards.ts); none: this thread alone. */
  readonly trainer?: ShardTrainer | null;
  /**
   * The most rows one forward and backward pass takes (memory.ts: wasm's heap); a larger batch runs as micro-batches
   * whose gradients add up to one update. Absent: the whole batch at once.
   */
  readonly microBatch?: number;
}

export interface Predictions {
  readonly loss: number;
  /** Right predictions: the class; multi-label, every label at 0.5 (the subset accuracy before thresholds). */
  readonly accuracy: number;
  /** Each example's class, or (multi-label) its label set's code. */
  readonly y: Int32Array;
  readonly pred: Int32Array;
  /** Each example's probability of each class, or (multi-label) of each label: examples × classes. */
  readonly probs: Float32Array;
  /** Multi-label: the validation mAP of `probs`. */
  readonly map?: number | null;
  /** The predicted class's probability, per example. */
  readonly confidence: Float32Array;
  /** Each example's index in the source's items. */
  readonly ids: Int32Array;
}

/** Loss and predictions over a whole source, without training. */
export async function evaluate(
  forward: Forward,
  src: BatchSource,
  classes: number,
  probabilities: boolean,
  batch: number,
  multi: MultiLabel | null = null,
): Promise<Predictions> {
  let loss = 0,
    n = 0,
    hits = 0;
  const ys: number[] = [],
    preds: number[] = [],
    conf: number[] = [],
    ids: number[] = [],
    probs: Float32Array[] = [];
  for await (const b of through(src.batches(batch, false, 0), forward)) {
    const out = b.x;
    const [l, p, c, h, all] = tf.tidy(() => {
      const yt = tf.tensor1d(b.y, 'int32');
      const pr = probabilities ? out : multi ? tf.sigmoid(out) : tf.softmax(out);
      const sum = batchLoss(out, yt, classes, null, probabilities, multi).mul(b.y.length);
      return [sum, out.argMax(-1), pr.max(-1), batchHits(out, yt, probabilities, multi), pr];
    });
    loss += (await l.data())[0]!;
    hits += (await h.data())[0]!;
    preds.push(...(await p.data()));
    conf.push(...(await c.data()));
    probs.push((await all.data()) as Float32Array);
    ys.push(...b.y);
    ids.push(...b.ids);
    n += b.y.length;
    tf.dispose([l, p, c, h, all, out]);
  }
  const y = Int32Array.from(ys),
    all = concatFloats(probs);
  return {
    loss: n ? loss / n : NaN,
    accuracy: n ? hits / n : 0,
    y,
    pred: Int32Array.from(preds),
    confidence: Float32Array.from(conf),
    ids: Int32Array.from(ids),
    probs: all,
    ...(multi ? { map: validationMap(all, y, multi) } : {}),
  };
}

/** The mAP of multi-label probabilities against their codes' label sets (rows of the table). */
function validationMap(probs: Float32Array, y: Int32Array, m: MultiLabel): number | null {
  const sets = matrixOf(m.table, m.labels);
  return meanAveragePrecision(
    matrixOf(probs, m.labels),
    Array.from(y, (c) => sets[c]!),
    m.labels,
  );
}

export interface StageResult {
  readonly epochsRun: number;
  readonly interrupted: boolean;
  readonly earlyStopped: boolean;
}

/** A batch whose loss is NaN or infinite: training has diverged, and going on would only waste time. */
export class NonFiniteLoss extends TlrError {
  constructor(stage: number, epoch: number, batch: number, loss: number, lr: number) {
    super(
      `stage ${stage + 1}, epoch ${epoch + 1}, batch ${batch}: the loss is ${loss} (training diverged); what ` +
        `earlier epochs saved (the best model, the checkpoint) is kept. Try a lower learning rate than ${lr} ` +
        `(\`lr ${+(lr / 10).toPrecision(3)}\`), or check the data for broken images`,
    );
  }
}

/** One update for the batch: here, or across the trainer's threads. Its loss and correct predictions. */
async function step(
  r: StageRun,
  opt: tf.Optimizer,
  vars: tf.Variable[],
  weights: tf.Tensor1D | null,
  x: tf.Tensor,
  y: Int32Array,
): Promise<[number, number]> {
  if (r.trainer) {
    const s = await r.trainer.step(opt, x, y, {
      classes: r.classes,
      probabilities: r.probabilities,
      classWeights: r.classWeights,
      multi: r.multi ?? null,
    });
    return [s.loss, s.hits];
  }
  if (r.microBatch && y.length > r.microBatch) {
    const loss = {
      classes: r.classes,
      probabilities: r.probabilities,
      classWeights: r.classWeights,
      multi: r.multi ?? null,
    };
    const s = await microBatchStep(r.model, opt, vars, x, y, r.microBatch, loss);
    return [s.loss, s.hits];
  }
  const yt = tf.tensor1d(y, 'int32');
  // Correct predictions of this batch, kept out of the optimizer's tidy scope.
  const hits: tf.Tensor[] = [];
  const loss = opt.minimize(
    () => {
      const out = r.model.apply(x, { training: true }) as tf.Tensor;
      hits.push(tf.keep(batchHits(out, yt, r.probabilities, r.multi ?? null)));
      return batchLoss(out, yt, r.classes, weights, r.probabilities, r.multi ?? null);
    },
    true,
    vars,
  )!;
  const [lv, hv] = await Promise.all([loss.data(), hits[0]!.data()]);
  tf.dispose([loss, ...hits, yt]);
  return [lv[0]!, hv[0]!];
}

/**
 * One update for the batch from micro-batches of at most `micro` rows, as even as can be: each gives its gradients of
 * the whole batch's loss (shard-math.ts), added up and applied once, so the update is the batch's up to float rounding.
 * BatchNorm layers that train normalise each micro-batch by its own statistics, and their moving statistics become the
 * micro-batches' updates from the same start, averaged by rows: as the thread shards do (data-parallel.ts).
 */
export async function microBatchStep(
  model: tf.LayersModel,
  opt: tf.Optimizer,
  vars: tf.Variable[],
  x: tf.Tensor,
  y: Int32Array,
  micro: number,
  loss: Omit<LossSpec, 'denominator'>,
): Promise<{ loss: number; hits: number }> {
  const spec: LossSpec = { ...loss, denominator: lossDenominator(y, loss.classWeights) };
  const stats = movingStats(model);
  const start: tf.Tensor[] = stats.map((v) => v.clone());
  const sums: tf.Tensor[] = stats.map((v) => tf.zerosLike(v));
  let grads: tf.Tensor[] | null = null,
    total = 0,
    hits = 0;
  try {
    for (const [a, b] of shardRows(y.length, Math.ceil(y.length / micro))) {
      for (const [i, v] of stats.entries()) v.assign(start[i]!);
      const part = x.slice(a, b - a);
      const g = await shardGradients(model, vars, part, y.subarray(a, b), spec).finally(() => part.dispose());
      if (!grads) grads = g.grads;
      else {
        const sum: tf.Tensor[] = grads.map((t, i) => tf.tidy(() => t.add(g.grads[i]!)));
        tf.dispose([...grads, ...g.grads]);
        grads = sum;
      }
      stats.forEach((v, i) => {
        const next = tf.tidy(() => sums[i]!.add(v.mul(b - a)));
        sums[i]!.dispose();
        sums[i] = next;
      });
      total += g.loss;
      hits += g.hits;
    }
    tf.tidy(() => {
      for (const [i, v] of stats.entries()) v.assign(sums[i]!.div(y.length));
    });
    const named: tf.NamedTensorMap = Object.fromEntries(vars.map((v, i) => [v.name, grads![i]!]));
    opt.applyGradients(named);
    return { loss: total, hits };
  } finally {
    tf.dispose([...start, ...sums, ...(grads ?? [])]);
  }
}

/**
 * Says so when an epoch waited on its batches (decoding images) for more than half its time: the images/s it reached,
 * and what the network alone ran in the rest. The torch engine says the same (tlr_torch/stage.py).
 */
function loaderLimit(r: StageRun, epoch: number, images: number, seconds: number, waited: number): void {
  // Cached rows decode nothing: a wait there is the scheduler's, not loading's (the torch engine says the same).
  if (!r.train.decodes || !images || seconds <= 0 || waited <= seconds / 2) return;
  const rate = (n: number) => Math.round(n).toLocaleString('en-US');
  r.events.emit({
    type: 'warning',
    message:
      `stage ${r.stageIndex + 1}, epoch ${epoch + 1}: data loading limited this stage to ${rate(images / seconds)} ` +
      `images/s; the network alone runs ${rate(images / Math.max(seconds - waited, 1e-9))} (later epochs read ` +
      `decoded ` +
      'pixels from TLR_CACHE)',
  });
}

/**
 * Runs a stage's epochs from `startEpoch`; stops after a batch when `stopped()` says so; a NonFiniteLoss when the loss
 * diverges.
 */
export async function runStage(r: StageRun): Promise<StageResult> {
  const opt = stageOptimizer(r.stage, r.model, r.info ?? null);
  if (r.startEpoch > 0 && r.restoreOptimizer) await r.restoreOptimizer(opt);
  const vars = r.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const weights = r.classWeights ? tf.tensor1d(r.classWeights) : null;
  const better = (a: number, b: number) => (r.stage.earlyStop?.metric.endsWith('loss') ? a < b : a > b);
  let bestSeen = NaN,
    sinceBest = r.sinceBest ?? 0;
  try {
    for (let epoch = r.startEpoch; epoch < r.stage.epochs; epoch++) {
      const batches = trainingBatchCount(r.train.size, r.stage.batch);
      // The epoch's rate (in its events and metrics) is its first batch's; one-cycle and warm-up move it every batch.
      const lr = learningRate(r.stage, epoch, 0, batches);
      const t0 = Date.now();
      let sum = 0,
        count = 0,
        correct = 0,
        batchNo = 0,
        waited = 0,
        mark = performance.now();
      const seed = r.seed * 1000 + r.stageIndex * 100 + epoch;
      for await (const b of r.train.batches(r.stage.batch, true, seed, r.stage.sampler ?? 'shuffle')) {
        waited += performance.now() - mark;
        const now = learningRate(r.stage, epoch, batchNo, batches);
        setLearningRate(opt, now);
        const [lv, right] = await step(r, opt, vars, weights, b.x, b.y);
        tf.dispose(b.x);
        sum += lv * b.y.length;
        count += b.y.length;
        correct += right;
        batchNo += 1;
        r.events.emit({ type: 'batch', stage: r.stageIndex + 1, epoch: epoch + 1, batch: batchNo, batches, loss: lv });
        if (!Number.isFinite(lv)) throw new NonFiniteLoss(r.stageIndex, epoch, batchNo, lv, now);
        // Batches on cached features resolve without ever leaving the microtask queue: yield, so a
        // Ctrl-C (a signal handler, a macrotask) is seen after this batch.
        await new Promise((done) => setImmediate(done));
        if (r.stopped()) return { epochsRun: epoch - r.startEpoch, interrupted: true, earlyStopped: false };
        mark = performance.now();
      }
      loaderLimit(r, epoch, count, (Date.now() - t0) / 1000, waited / 1000);
      const v = await r.validate();
      const m: EngineMetrics = {
        loss: count ? sum / count : NaN,
        accuracy: count ? correct / count : 0,
        val_loss: v.loss,
        val_accuracy: v.accuracy,
        ...(r.multi ? { val_map: v.map ?? NaN } : {}),
      };
      if (r.stage.earlyStop) {
        const value = metricValue(m, r.stage.earlyStop.metric);
        if (Number.isNaN(bestSeen) || better(value, bestSeen)) {
          bestSeen = value;
          sinceBest = 0;
        } else sinceBest++;
      }
      await r.onEpoch(epoch, m, lr, (Date.now() - t0) / 1000, sinceBest, opt);
      if (r.stage.earlyStop) {
        if (sinceBest >= r.stage.earlyStop.patience) {
          r.events.emit({
            type: 'early-stop',
            stage: r.stageIndex + 1,
            epoch: epoch + 1,
            metric: r.stage.earlyStop.metric,
            patience: r.stage.earlyStop.patience,
          });
          return { epochsRun: epoch + 1 - r.startEpoch, interrupted: false, earlyStopped: true };
        }
      }
      if (r.stopped()) return { epochsRun: epoch + 1 - r.startEpoch, interrupted: true, earlyStopped: false };
    }
    return { epochsRun: r.stage.epochs - r.startEpoch, interrupted: false, earlyStopped: false };
  } finally {
    opt.dispose();
    weights?.dispose();
  }
}
