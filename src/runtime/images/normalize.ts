import { instantiate } from './resize.js';

// The network's preprocessing, (x / 255 - mean) / std per channel, on RGB bytes, in WebAssembly SIMD
// (resize.wat's `normalize`): it runs on every image of every pass, and a loop over the bytes in
// JavaScript took 0.3 to 0.9 ms an image at 224 px, a sixth of the small MobileNet's whole time per
// image. The arithmetic is the JavaScript definition's (below): each value times the channel's scale
// minus its offset in float64, rounded to float32 once, so the floats are the same
// (test/runtime/normalize.test.ts).

export interface Preprocess {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

const CONSTS = 192,
  GROUP = 12;
let kernel: ReturnType<typeof instantiate> | null = null;

/** The scale and offset of `p` per channel, as the definition computes them. */
export function channelTerms(p: Preprocess): { scale: number[]; offset: number[] } {
  const c = [0, 1, 2];
  return { scale: c.map((i) => 1 / (255 * p.std[i]!)), offset: c.map((i) => p.mean[i]! / p.std[i]!) };
}

/**
 * RGB bytes to normalised floats, written into `out` at `offset` (HWC order): value v of channel c becomes
 * v * (1 / (255 std[c])) - mean[c] / std[c], in float64, rounded to float32.
 */
export function normalize(
  rgb: Uint8Array,
  p: Preprocess,
  out: Float32Array = new Float32Array(rgb.length),
  offset = 0,
): Float32Array {
  const n = rgb.length,
    groups = Math.ceil(n / GROUP);
  if (!n) return out;
  kernel ??= instantiate();
  // Constants, then the bytes (padded to whole groups and 16 more for the last load), then the floats.
  const srcAt = CONSTS,
    dstAt = (srcAt + groups * GROUP + 16 + 15) & ~15,
    end = dstAt + groups * GROUP * 4;
  const grow = end - kernel.memory.buffer.byteLength;
  if (grow > 0) kernel.memory.grow(Math.ceil(grow / 65536));
  const { scale, offset: shift } = channelTerms(p),
    k = new Float64Array(kernel.memory.buffer, 0, 24);
  for (let i = 0; i < GROUP; i++) {
    k[i] = scale[i % 3]!;
    k[GROUP + i] = shift[i % 3]!;
  }
  new Uint8Array(kernel.memory.buffer, srcAt, n).set(rgb);
  kernel.normalize(srcAt, groups, dstAt, 0);
  out.set(new Float32Array(kernel.memory.buffer, dstAt, n), offset);
  return out;
}
