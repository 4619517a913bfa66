import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/serve/batcher.js';

// The batcher alone: requests queued while the model is busy run together, in order, never past the largest batch;
// each gets its own rows back; a failing batch fails only its own requests.

/** A model of 2 floats an image that answers each image's first float doubled, recording its batch sizes. */
function model(fail = () => false) {
  const sizes: number[] = [];
  const run = async (x: Float32Array, n: number) => {
    sizes.push(n);
    await new Promise((r) => setTimeout(r, 5));
    if (fail()) throw new Error('the model failed');
    return Float32Array.from({ length: n }, (_, i) => x[i * 2]! * 2);
  };
  return { sizes, run };
}

describe('Batcher', () => {
  it('runs what queued while the model was busy as one batch, up to the largest; every request gets its rows', async () => {
    const m = model();
    const b = new Batcher(m.run, 1, { maxBatch: 4, maxDelayMs: 0 });
    const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((v) => b.submit(Float32Array.from([v, 0]), 1)));
    expect(answers.map((a) => Array.from(a))).toEqual([[2], [4], [6], [8], [10], [12], [14]]);
    expect(m.sizes.every((n) => n <= 4)).toBe(true);
    expect(m.sizes.reduce((a, n) => a + n, 0)).toBe(7);
    expect(m.sizes.length).toBeLessThan(7);
  });

  it('a request of several images keeps its rows together; a failed batch rejects its requests only', async () => {
    let calls = 0;
    const m = model(() => ++calls === 1);
    const b = new Batcher(m.run, 1, { maxBatch: 8, maxDelayMs: 0 });
    const first = b.submit(Float32Array.from([1, 0]), 1);
    await expect(first).rejects.toThrow('the model failed');
    const two = await b.submit(Float32Array.from([3, 0, 4, 0]), 2);
    expect(Array.from(two)).toEqual([6, 8]);
  });
});
