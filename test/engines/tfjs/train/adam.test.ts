import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { TidyAdam } from '../../../../src/engines/tfjs/train/adam.js';
import { useBackend } from '../../../helpers/backend.js';
import { rng } from '../../../helpers/random.js';

// tlr's Adam (a tidy per variable) against TensorFlow.js' own: the same weights bit for bit, the
// same state under the same names (so checkpoints load either way), and a lower peak of memory.

beforeAll(async () => {
  await useBackend();
});

const shapes = [[3, 3, 8, 16], [16], [64, 10], [10], [32, 36], [32, 36], [32, 36], [32, 36]];

/** Variables with seeded values, and `steps` of seeded gradients applied by `opt`. */
function train(opt: tf.Optimizer, prefix: string, steps: number, from = 0): tf.Variable[] {
  const r = rng(1);
  const vars = shapes.map((s, i) =>
    tf.variable(
      tf.tensor(
        Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => r() - 0.5),
        s,
      ),
      true,
      `${prefix}${i}`,
    ),
  );
  for (let t = from; t < from + steps; t++) {
    const g = rng(100 + t);
    const grads = vars.map((v) => ({
      name: v.name,
      tensor: tf.tensor(
        Float32Array.from({ length: v.size }, () => g() - 0.5),
        v.shape,
      ),
    }));
    opt.applyGradients(grads);
    tf.dispose(grads.map((x) => x.tensor));
  }
  return vars;
}

const values = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));

describe('TidyAdam', () => {
  it('moves the weights exactly as tf.train.adam does, and names its state the same', async () => {
    const ours = new TidyAdam(0.01),
      theirs = tf.train.adam(0.01);
    const a = train(ours, 'a', 5),
      b = train(theirs, 'b', 5);
    expect(values(a)).toEqual(values(b));
    const [wa, wb] = [await ours.getWeights(), await theirs.getWeights()];
    expect(wa.map((w) => w.name.replace(/^a/, ''))).toEqual(wb.map((w) => w.name.replace(/^b/, '')));
    expect(wa.map((w) => Array.from(w.tensor.dataSync()))).toEqual(wb.map((w) => Array.from(w.tensor.dataSync())));
    expect(ours.getClassName()).toBe('Adam');
    tf.dispose([...a, ...b]);
    ours.dispose();
    theirs.dispose();
  });

  it("takes over tf.train.adam's state (as a checkpoint restores it) and goes on identically", async () => {
    const theirs = tf.train.adam(0.01);
    const a = train(theirs, 'c', 3);
    const resumed = new TidyAdam(0.01);
    await resumed.setWeights(await theirs.getWeights());
    const b = a.map((v, i) => tf.variable(v.clone(), true, `d${i}`));
    const moreA = rng(7),
      g = () =>
        b.map((v) =>
          tf.tensor(
            Float32Array.from({ length: v.size }, () => moreA() - 0.5),
            v.shape,
          ),
        );
    const grads = g();
    theirs.applyGradients(a.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
    resumed.applyGradients(b.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
    expect(values(b)).toEqual(values(a));
    tf.dispose([...a, ...b, ...grads]);
    theirs.dispose();
    resumed.dispose();
  });

  it("leaks no tensors, and its peak memory in a step is below tf.train.adam's", async () => {
    const peak = async (opt: tf.Optimizer, prefix: string) => {
      const vars = train(opt, prefix, 1);
      const before = tf.memory().numTensors;
      const grads = vars.map((v) => ({ name: v.name, tensor: tf.onesLike(v) }));
      const start = tf.memory().numBytes;
      const p = await tf.profile(() => {
        opt.applyGradients(grads);
      });
      tf.dispose(grads.map((x) => x.tensor));
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(vars);
      opt.dispose();
      return p.peakBytes - start;
    };
    const ours = await peak(new TidyAdam(0.01), 'e'),
      theirs = await peak(tf.train.adam(0.01), 'f');
    expect(ours).toBeLessThan(theirs / 2);
  });
});
