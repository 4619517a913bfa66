import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/engines/tfjs/tf.js';
import { makeOptimizer } from '../../../src/engines/tfjs/train/optimizer.js';
import { loadOptimizer, saveOptimizer } from '../../../src/engines/tfjs/optimizer-state.js';

// Save after some steps, restore into a fresh optimizer: the next steps match the original's.

function steps(opt: tf.Optimizer, v: tf.Variable, n: number, from: number): void {
  for (let i = from; i < from + n; i++) {
    tf.dispose(
      opt.minimize(
        () =>
          v
            .mul(tf.scalar(i + 1))
            .square()
            .sum() as tf.Scalar,
        false,
        [v],
      ) ?? undefined,
    );
  }
}

describe('optimizer state', () => {
  for (const name of ['adam', 'sgd', 'rmsprop']) {
    it(`${name}: a restored optimizer continues exactly`, async () => {
      await tf.setBackend('cpu');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-opt-'));
      const a = tf.variable(tf.tensor1d([0.5, -1, 2]));
      const optA = makeOptimizer(name, 0.01);
      steps(optA, a, 3, 0);
      const before = tf.memory().numTensors;
      await saveOptimizer(optA, dir);
      expect(tf.memory().numTensors).toBe(before);
      const b = tf.variable(a.clone());
      const optB = makeOptimizer(name, 0.01);
      expect(await loadOptimizer(optB, dir)).toBe(true);
      steps(optA, a, 2, 3);
      steps(optB, b, 2, 3);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      // A fresh optimizer (state reset) does not: the comparison above is not vacuous.
      const c = tf.variable(tf.tensor1d([0.5, -1, 2]));
      const optC = makeOptimizer(name, 0.01);
      steps(optC, c, 3, 0);
      const d = tf.variable(c.clone());
      steps(optC, c, 2, 3);
      steps(makeOptimizer(name, 0.01), d, 2, 3);
      expect(Array.from(d.dataSync())).not.toEqual(Array.from(c.dataSync()));
      tf.dispose([a, b, c, d]);
      optA.dispose();
      optB.dispose();
      optC.dispose();
    });
  }

  it('a state saved from another optimizer is an error naming both; none saved restores nothing', async () => {
    await tf.setBackend('cpu');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-opt-'));
    expect(await loadOptimizer(makeOptimizer('adam', 0.1), dir)).toBe(false);
    const v = tf.variable(tf.tensor1d([1, 2]));
    const sgd = makeOptimizer('sgd', 0.1);
    steps(sgd, v, 1, 0);
    await saveOptimizer(sgd, dir);
    await expect(loadOptimizer(makeOptimizer('adam', 0.1), dir)).rejects.toThrow(
      /optimizer\.json holds the state of Momentum, not of Adam/,
    );
  });
});
