import { tf } from '../tf.js';
import { FreezableBatchNorm } from '../tf-layers/layers.js';
import { leafLayers } from './optimizer.js';
import { batchHits, batchLoss, type MultiLabel } from './loss.js';

// One shard of a batch, the same on the main thread and in a training worker: its gradients of
// the batch's loss, so that the shards' gradients add up to the whole batch's.

/** What a batch's loss needs besides the model's output. */
export interface LossSpec {
  readonly classes: number;
  /** The last layer applies softmax already. */
  readonly probabilities: boolean;
  readonly classWeights: Float32Array | null;
  /** Multi-label targets (shard-messages.ts carries them to the workers); null: one label per image. */
  readonly multi?: MultiLabel | null;
  /**
   * What the whole batch's loss divides by: its number of examples, or with class weights the
   * number with a non-zero weight (TensorFlow.js' SUM_BY_NONZERO_WEIGHTS, as `batchLoss`).
   */
  readonly denominator: number;
}

export interface ShardResult {
  /** d(batch loss)/d(variable), in the order of the variables asked for. */
  readonly grads: tf.Tensor[];
  /** This shard's part of the batch's loss (the parts add up to it). */
  readonly loss: number;
  /** Correct predictions in this shard. */
  readonly hits: number;
}

/** The batch's loss denominator for labels `y` (see LossSpec). */
export function lossDenominator(y: Int32Array, classWeights: Float32Array | null): number {
  if (!classWeights) return y.length;
  let n = 0;
  for (const c of y) if (classWeights[c] !== 0) n++;
  return n;
}

/** The shard's gradients, loss part and hits; the forward pass runs in training mode (BatchNorm statistics move). */
export async function shardGradients(
  model: tf.LayersModel,
  vars: tf.Variable[],
  x: tf.Tensor,
  y: Int32Array,
  spec: LossSpec,
): Promise<ShardResult> {
  const yt = tf.tensor1d(y, 'int32');
  let hitsT: tf.Tensor | null = null;
  // The shard's own loss (batchLoss: its weighted sum over its own denominator), rescaled to
  // its part of the batch's: the sum over the batch's denominator.
  const part = lossDenominator(y, spec.classWeights) / Math.max(1, spec.denominator);
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(x, { training: true }) as tf.Tensor;
    hitsT = tf.keep(batchHits(out, yt, spec.probabilities, spec.multi ?? null));
    const weights = spec.classWeights ? tf.tensor1d(spec.classWeights) : null;
    return batchLoss(out, yt, spec.classes, weights, spec.probabilities, spec.multi ?? null).mul(part) as tf.Scalar;
  }, vars);
  const [lv, hv] = await Promise.all([value.data(), hitsT!.data()]);
  const list = vars.map((v) => grads[v.name]!);
  tf.dispose([value, hitsT!, yt]);
  return { grads: list, loss: lv[0]!, hits: hv[0]! };
}

/** The variables training moves in `model`: its trainable weights, in order. */
export const trainableVars = (model: tf.LayersModel): tf.Variable[] =>
  model.trainableWeights.map((w) => w.read() as tf.Variable);

/** Every BatchNorm layer inside `model` (nested models opened). */
export function batchNorms(model: tf.LayersModel): FreezableBatchNorm[] {
  return leafLayers(model).filter((l): l is FreezableBatchNorm => l instanceof FreezableBatchNorm);
}

/**
 * The moving statistics a training step changes: those of BatchNorm layers in training mode
 * (trainable, statistics not kept). Frozen ones never move, so they are never averaged.
 */
export function movingStats(model: tf.LayersModel): tf.Variable[] {
  return batchNorms(model)
    .filter((l) => l.trainable && !l.keepStatistics)
    .flatMap((l) => l.nonTrainableWeights.map((w) => w.read() as tf.Variable));
}
