import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OUT, resizeWasmModule } from '../../scripts/wasm.js';
import { rng } from '../../src/data/random.js';
import { FIXED_BITS, fixedTaps, resizeRgb } from '../../src/runtime/images/resize.js';

// tlr-lanczos3/2 written as its definition reads, one value at a time in JavaScript: the oracle that the
// WebAssembly passes (resize.wat) must match byte for byte, at sizes shrinking, growing and unchanged.
const HALF = 1 << (FIXED_BITS - 1);

function reference(src: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const tx = fixedTaps(w, ow),
    ty = fixedTaps(h, oh);
  const across = new Float64Array(h * ow * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < ow; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < tx.count[x]!; k++)
          s += src[(y * w + tx.start[x]! + k) * 3 + c]! * tx.weights[x * tx.width + k]!;
        across[(y * ow + x) * 3 + c] = (s + HALF) >> FIXED_BITS;
      }
  const out = new Uint8Array(oh * ow * 3);
  for (let y = 0; y < oh; y++)
    for (let i = 0; i < ow * 3; i++) {
      let s = 0;
      for (let k = 0; k < ty.count[y]!; k++)
        s += across[(ty.start[y]! + k) * ow * 3 + i]! * ty.weights[y * ty.width + k]!;
      out[y * ow * 3 + i] = Math.max(0, Math.min(255, (s + HALF) >> FIXED_BITS));
    }
  return out;
}

describe('the resizer in WebAssembly', () => {
  it('resize-wasm.ts is resize.wat assembled (run `npm run wasm`)', async () => {
    expect(fs.readFileSync(OUT, 'utf8')).toBe(await resizeWasmModule());
  });

  it('makes the bytes of the definition, shrinking, growing, one axis alone, and at odd widths', () => {
    const r = rng(3);
    const sizes: [number, number, number, number][] = [
      [320, 240, 224, 224],
      [61, 47, 224, 224],
      [1, 1, 5, 3],
      [224, 300, 224, 224],
      [300, 224, 224, 224],
      [97, 13, 7, 29],
      [1000, 9, 31, 9],
      [5, 700, 5, 17],
      [224, 224, 225, 223],
    ];
    for (let i = 0; i < 12; i++)
      sizes.push([
        1 + Math.floor(r() * 400),
        1 + Math.floor(r() * 400),
        1 + Math.floor(r() * 300),
        1 + Math.floor(r() * 300),
      ]);
    for (const [w, h, ow, oh] of sizes) {
      // Hard edges and noise: Lanczos overshoots below 0 and above 255, which the first pass keeps.
      const src = Uint8Array.from(
        { length: w * h * 3 },
        (_, i) => (((i / 3) % w) % 9 < 4 ? 250 : 3) + Math.floor(r() * 6),
      );
      const ours = resizeRgb(src, w, h, ow, oh),
        want = reference(src, w, h, ow, oh);
      expect(ours.length).toBe(want.length);
      const off = ours.findIndex((v, j) => v !== want[j]);
      expect(off, `${w}x${h} -> ${ow}x${oh}: first differing byte`).toBe(-1);
    }
  });

  it('leaves its input alone, and a large image (its own instance) matches too', () => {
    // 72 MB of pixels: past the 64 MB that the shared instance keeps.
    const w = 8000,
      h = 3000,
      src = new Uint8Array(w * h * 3);
    for (let i = 0; i < src.length; i++) src[i] = Math.imul(i, 2654435761) >>> 24;
    const copy = src.slice();
    const out = resizeRgb(src, w, h, 40, 30);
    expect(Buffer.from(src).equals(Buffer.from(copy))).toBe(true);
    expect(Buffer.from(out).equals(Buffer.from(reference(src, w, h, 40, 30)))).toBe(true);
  });
});
