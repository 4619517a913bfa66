import { describe, expect, it } from 'vitest';
import { slices, trainingBatchCount, trainingBatches } from '../../src/runtime/batches.js';

// The cases both engines share are in test/fixtures/twins/batches.json (test/runtime/twins.test.ts).

describe('training batches', () => {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('a last batch of one is the slice that trainingBatches joins to the one before (cases: twins.test.ts)', () => {
    expect(slices(range(9), 4).at(-1)).toEqual([8]);
    expect(trainingBatches(range(9), 4).at(-1)).toEqual([4, 5, 6, 7, 8]);
  });

  it('counts the batches it makes', () => {
    for (let n = 0; n < 40; n++)
      for (const b of [1, 2, 3, 4, 7]) expect(trainingBatchCount(n, b)).toBe(trainingBatches(range(n), b).length);
  });
});
