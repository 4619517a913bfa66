import { tf } from '../tf.js';
import type { PlanAugment } from '../../../contracts/plan.js';

// Random transforms of a training batch, on pixels in [0, 1], drawn from the run's seeded stream.

/** Applies the plan's augmentations to a batch, with the seeded random source. */
export function augmentBatch(x: tf.Tensor4D, ops: readonly PlanAugment[], random: () => number): tf.Tensor4D {
  if (!ops.length) return x.clone();
  return tf.tidy(() => {
    const n = x.shape[0];
    const pick = (lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * random());
    let out: tf.Tensor4D = x;
    const flip = ops.find((o) => o.kind === 'flip');
    if (flip && flip.kind === 'flip') {
      const coin = (p = 0.5) =>
        tf
          .tensor1d(
            Array.from({ length: n }, () => (random() < p ? 1 : 0)),
            'bool',
          )
          .reshape([n, 1, 1, 1]);
      if (flip.mode !== 'vertical') out = tf.where(coin(), tf.reverse(out, 2), out) as tf.Tensor4D;
      if (flip.mode !== 'horizontal') out = tf.where(coin(), tf.reverse(out, 1), out) as tf.Tensor4D;
    }
    const rot = ops.find((o) => o.kind === 'rotate');
    if (rot && rot.kind === 'rotate') {
      const angles = pick(-rot.degrees, rot.degrees).map((d) => (d * Math.PI) / 180);
      out = tf.concat(
        angles.map((a, i) => tf.image.rotateWithOffset(out.slice([i, 0, 0, 0], [1, -1, -1, -1]), a, 0.5)),
        0,
      ) as tf.Tensor4D;
    }
    const zoom = ops.find((o) => o.kind === 'zoom'),
      shift = ops.find((o) => o.kind === 'shift');
    if (zoom || shift) {
      const z = zoom && zoom.kind === 'zoom' ? zoom.amount : 0,
        s = shift && shift.kind === 'shift' ? shift.amount : 0;
      const boxes = Array.from({ length: n }, () => {
        const side = 1 / (1 + (random() * 2 - 1) * z);
        const cy = 0.5 + (random() * 2 - 1) * s,
          cx = 0.5 + (random() * 2 - 1) * s;
        return [cy - side / 2, cx - side / 2, cy + side / 2, cx + side / 2];
      });
      out = tf.image.cropAndResize(
        out,
        tf.tensor2d(boxes),
        tf.range(0, n, 1, 'int32') as tf.Tensor1D,
        [x.shape[1], x.shape[2]],
        'bilinear',
        0.5,
      );
    }
    const bright = ops.find((o) => o.kind === 'brightness');
    if (bright && bright.kind === 'brightness')
      out = out.add(tf.tensor1d(pick(-bright.amount, bright.amount)).reshape([n, 1, 1, 1]));
    const contrast = ops.find((o) => o.kind === 'contrast');
    if (contrast && contrast.kind === 'contrast') {
      const mean = out.mean([1, 2, 3], true);
      out = out
        .sub(mean)
        .mul(tf.tensor1d(pick(1 - contrast.amount, 1 + contrast.amount)).reshape([n, 1, 1, 1]))
        .add(mean);
    }
    return out.clipByValue(0, 1) as tf.Tensor4D;
  });
}
