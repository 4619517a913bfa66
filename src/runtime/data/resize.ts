// The one resizer every path uses: the tfjs engine, predict and eval here, and the torch engine's
// twin in engines/torch/tlr_torch/resize.py. Libraries' Lanczos resizers disagree (libvips shrinks
// by whole factors with a box filter before its Lanczos; Pillow rounds to 8 bits between its two
// passes and uses fixed-point weights), by enough to move a probability by several points. So both
// engines decode with their library and resize with this definition, written out twice.
//
// The definition: Lanczos with a = 3, stretched by the scale when shrinking (so it averages every
// source pixel, the antialiasing Pillow's design does), centred at (i + 0.5) * scale, weights
// normalised per output pixel; both passes in float64; rounded to 8 bits once, at the end
// (floor(v + 0.5), clamped), so the two implementations differ only by float summation order.

/** Recorded in model folders and ONNX metadata; a model made with another resizer is refused or warned about. */
export const RESIZER = 'tlr-lanczos3/1';

/** The definition in a sentence, for ONNX metadata: what a reader elsewhere must do to feed the model. */
export const RESIZE_DEFINITION =
  'squash to inputSize x inputSize with Lanczos a=3, the kernel stretched by the scale when shrinking, ' +
  'centred at (i + 0.5) * scale, weights normalised per output pixel, in float64, rounded to 8 bits once';

const A = 3;

function lanczos(x: number): number {
  if (x === 0) return 1;
  if (x <= -A || x >= A) return 0;
  const px = Math.PI * x;
  return (A * Math.sin(px) * Math.sin(px / A)) / (px * px);
}

/** For output index i: the first source index `start[i]` and `count[i]` normalised weights at `weights[i * width]`. */
export interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly width: number;
  readonly weights: Float64Array;
}

/** The taps of one axis, `inSize` source pixels to `outSize`. */
export function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize,
    stretch = Math.max(scale, 1),
    support = A * stretch,
    width = Math.ceil(2 * support) + 2;
  const start = new Int32Array(outSize),
    count = new Int32Array(outSize),
    weights = new Float64Array(outSize * width);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5)),
      n = Math.max(0, Math.min(inSize, Math.trunc(center + support + 0.5)) - lo);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += weights[i * width + j] = lanczos((j + lo - center + 0.5) / stretch);
    if (sum !== 0) for (let j = 0; j < n; j++) weights[i * width + j]! /= sum;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, width, weights };
}

// Images of a data set mostly share a few sizes: their taps are kept (a few kB each).
const kept = new Map<string, Taps>();
function tapsFor(inSize: number, outSize: number): Taps {
  const key = `${inSize}>${outSize}`;
  let t = kept.get(key);
  if (!t) {
    if (kept.size > 64) kept.clear();
    t = taps(inSize, outSize);
    kept.set(key, t);
  }
  return t;
}

/** RGB bytes (HWC) of width x height resized to outW x outH. */
export function resizeRgb(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  if (width === outW && height === outH) return src;
  const across = width === outW ? Float64Array.from(src) : resizeAcross(src, width, height, outW);
  const out = new Uint8Array(outW * outH * 3);
  if (height === outH) {
    for (let i = 0; i < out.length; i++) out[i] = toByte(across[i]!);
    return out;
  }
  // Down the columns: each output value a weighted sum of a short column of the rows above.
  const { start, count, width: tw, weights } = tapsFor(height, outH),
    stride = outW * 3;
  for (let y = 0; y < outH; y++) {
    const base = y * tw,
      n = count[y]!,
      first = start[y]! * stride,
      o = y * stride;
    for (let i = 0; i < stride; i++) {
      let v = 0;
      for (let k = 0, at = first + i; k < n; k++, at += stride) v += across[at]! * weights[base + k]!;
      out[o + i] = toByte(v);
    }
  }
  return out;
}

/** Each row resampled to `outW` pixels, as floats. */
function resizeAcross(src: Uint8Array, width: number, height: number, outW: number): Float64Array {
  const { start, count, width: tw, weights } = tapsFor(width, outW),
    across = new Float64Array(height * outW * 3);
  for (let y = 0; y < height; y++) {
    const rowStart = y * width * 3;
    for (let x = 0; x < outW; x++) {
      const s = rowStart + start[x]! * 3,
        base = x * tw,
        n = count[x]!;
      let r = 0,
        g = 0,
        b = 0;
      for (let k = 0; k < n; k++) {
        const o = s + k * 3,
          c = weights[base + k]!;
        r += src[o]! * c;
        g += src[o + 1]! * c;
        b += src[o + 2]! * c;
      }
      const o = (y * outW + x) * 3;
      across[o] = r;
      across[o + 1] = g;
      across[o + 2] = b;
    }
  }
  return across;
}

const toByte = (v: number): number => {
  const r = Math.floor(v + 0.5);
  return Math.max(0, Math.min(255, r));
};
