import { describe, expect, it } from 'vitest';
import { rng } from '../../src/data/random.js';
import { channelTerms, normalize, type Preprocess } from '../../src/runtime/images/normalize.js';

// The preprocessing in WebAssembly gives the floats of its definition, written here one value at a time in
// JavaScript: v * (1 / (255 std)) - mean / std in float64, rounded to float32 when stored.

function definition(rgb: Uint8Array, p: Preprocess): Float32Array {
  const { scale, offset } = channelTerms(p),
    out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! * scale[i % 3]! - offset[i % 3]!;
  return out;
}

const PRES: Preprocess[] = [
  { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  { mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] },
];

describe('normalize in WebAssembly', () => {
  it('gives the definition’s floats for every byte, channel and image size (whole groups of 4 pixels or not)', () => {
    const r = rng(3);
    for (const p of PRES)
      for (const pixels of [1, 2, 3, 4, 5, 7, 224 * 224, 299 * 299]) {
        const rgb = Uint8Array.from({ length: pixels * 3 }, (_, i) => (i < 768 ? i % 256 : Math.floor(r() * 256)));
        expect(Buffer.from(normalize(rgb, p).buffer).equals(Buffer.from(definition(rgb, p).buffer)), `${pixels}`).toBe(
          true,
        );
      }
  });

  it('writes at its offset and nowhere else, and a larger image after a smaller one is whole', () => {
    const p = PRES[0]!,
      a = Uint8Array.from({ length: 30 }, (_, i) => i * 7),
      b = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 13) % 256);
    const out = new Float32Array(60).fill(9);
    normalize(a, p, out, 15);
    expect([...out.subarray(0, 15)].every((v) => v === 9) && [...out.subarray(45)].every((v) => v === 9)).toBe(true);
    expect([...out.subarray(15, 45)]).toEqual([...definition(a, p)]);
    expect([...normalize(b, p)]).toEqual([...definition(b, p)]);
    expect([...normalize(a, p)]).toEqual([...definition(a, p)]);
  });
});
