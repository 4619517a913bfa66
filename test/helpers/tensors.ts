import { tf } from '../../src/engines/tfjs/tf.js';
import { rng } from '../../src/data/random.js';

// Helpers for tests that compare networks: BatchNorm statistics worth folding, and differences.

/** BatchNorm statistics far from the initial 0/1, so folding them is really tested. */
export function randomizeBatchNorm(model: tf.LayersModel, seed: number): void {
  const r = rng(seed);
  const u = (n: number, a: number, b: number) => tf.tensor1d(Float32Array.from({ length: n }, () => a + (b - a) * r()));
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    const n = l.getWeights()[0]!.shape[0]!;
    l.setWeights([u(n, 0.5, 1.5), u(n, -0.5, 0.5), u(n, -0.5, 0.5), u(n, 0.5, 2)]);
  }
}

/** The largest difference between `a` and `b`, relative to the largest value of `a`. */
export function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]! / Math.max(1e-6, a.abs().max().dataSync()[0]!));
}
