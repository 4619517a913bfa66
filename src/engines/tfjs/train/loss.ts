import { tf } from '../tf.js';

// The training loss, one definition for a whole batch (loop.ts) and for a shard of it on a worker
// thread (shard-math.ts).

/** Mean cross-entropy of a batch, weighted by class when asked. */
export function batchLoss(
  out: tf.Tensor,
  y: tf.Tensor1D,
  classes: number,
  weights: tf.Tensor1D | null,
  probabilities: boolean,
): tf.Scalar {
  const logits = probabilities ? tf.log(tf.clipByValue(out, 1e-7, 1)) : out;
  const onehot = tf.oneHot(y, classes);
  const w = weights ? tf.gather(weights, y) : undefined;
  return tf.losses.softmaxCrossEntropy(onehot, logits, w) as tf.Scalar;
}
