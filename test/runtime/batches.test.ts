import { describe, expect, it } from 'vitest';
import { slices, trainingBatchCount, trainingBatches } from '../../src/runtime/batches.js';

// The torch engine's tests/test_sharding.py holds its copy of this rule to the same cases.

describe('training batches', () => {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('joins a last batch of one image to the batch before it, and nothing else', () => {
    expect(trainingBatches(range(9), 4)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7, 8],
    ]);
    expect(trainingBatches(range(8), 4)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(trainingBatches(range(10), 4)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(trainingBatches([5], 4)).toEqual([[5]]);
    expect(slices(range(9), 4).at(-1)).toEqual([8]);
  });

  it('counts the batches it makes', () => {
    for (let n = 0; n < 40; n++)
      for (const b of [1, 2, 3, 4, 7]) expect(trainingBatchCount(n, b)).toBe(trainingBatches(range(n), b).length);
  });
});
