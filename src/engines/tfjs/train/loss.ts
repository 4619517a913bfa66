import { tf } from '../tf.js';

// The training loss, one definition for a whole batch (loop.ts) and for a shard of it on a worker
// thread (shard-math.ts): softmax cross-entropy for one label per image, sigmoid cross-entropy per label for several.

/**
 * Multi-label targets. A batch's labels are codes of label sets (runtime/images/dataset.ts Splits.labelSets): row c
 * of `table` (sets × labels, 0/1) is code c's labels. `posWeights`: per label, how much an image having it counts
 * (`class weights auto`: images without it ÷ images with it, as PyTorch's BCEWithLogitsLoss pos_weight).
 */
export interface MultiLabel {
  readonly labels: number;
  readonly table: Float32Array;
  readonly posWeights: Float32Array | null;
}

/** The 0/1 targets (rows × labels) of a batch's label-set codes. */
export const targetsOf = (y: tf.Tensor1D, m: MultiLabel): tf.Tensor2D =>
  tf.gather(tf.tensor2d(m.table, [m.table.length / m.labels, m.labels]), y);

/** Logits from a last layer's output: itself, or the log-odds of probabilities (a head ending in an activation). */
function logitsOf(out: tf.Tensor, probabilities: boolean, multi: boolean): tf.Tensor {
  if (!probabilities) return out;
  const p = tf.clipByValue(out, 1e-7, 1 - 1e-7);
  return multi ? tf.log(p).sub(tf.log(tf.sub(1, p))) : tf.log(p);
}

/** The mean over every (image, label) of the sigmoid cross-entropy, an image's positives weighted by `pw`. */
function sigmoidLoss(z: tf.Tensor, t: tf.Tensor, pw: Float32Array | null): tf.Scalar {
  // -log σ(z) = softplus(-z) and -log(1 - σ(z)) = softplus(z): no log of a rounded 0.
  const pos = t.mul(tf.softplus(z.neg()));
  const neg = tf.sub(1, t).mul(tf.softplus(z));
  return (pw ? pos.mul(tf.tensor1d(pw)) : pos).add(neg).mean() as tf.Scalar;
}

/** Mean cross-entropy of a batch, weighted by class when asked; per label when the task is multi-label. */
export function batchLoss(
  out: tf.Tensor,
  y: tf.Tensor1D,
  classes: number,
  weights: tf.Tensor1D | null,
  probabilities: boolean,
  multi: MultiLabel | null = null,
): tf.Scalar {
  const logits = logitsOf(out, probabilities, !!multi);
  if (multi) return sigmoidLoss(logits, targetsOf(y, multi), multi.posWeights);
  const onehot = tf.oneHot(y, classes);
  const w = weights ? tf.gather(weights, y) : undefined;
  return tf.losses.softmaxCrossEntropy(onehot, logits, w) as tf.Scalar;
}

/**
 * The batch's right answers: images whose predicted class is theirs, or (multi-label) whose predicted labels at 0.5
 * are exactly theirs.
 */
export function batchHits(out: tf.Tensor, y: tf.Tensor1D, probabilities: boolean, multi: MultiLabel | null): tf.Scalar {
  if (!multi) return out.argMax(-1).equal(y).sum();
  const said = probabilities ? out.greaterEqual(0.5) : out.greaterEqual(0);
  return said.equal(targetsOf(y, multi).cast('bool')).all(1).sum();
}
