// The one resizer every path uses: the tfjs engine, predict and eval here, and the torch engine's
// twin in python/tlr_torch/resize.py. Libraries' Lanczos resizers disagree (libvips shrinks
// by whole factors with a box filter before its Lanczos; Pillow rounds to 8 bits between its two
// passes and uses fixed-point weights), by enough to move a probability by several points. So both
// engines decode with their library and resize with this definition, written out twice.
//
// The definition: Lanczos with a = 3, stretched by the scale when shrinking (so it averages every
// source pixel, the antialiasing Pillow's design does), centred at (i + 0.5) * scale, weights
// normalised per output pixel (in float64) and then made whole numbers of 1/2^14 (FixedTaps); across
// the rows first, then down the columns, each pass summing integers and rounding them ((sum + 2^13)
// >> 14), only the second clamped to a byte. Integers add up the same in any order, so the two implementations
// give the same bytes exactly, and the arithmetic is the fast kind in both (tlr-lanczos3/1 summed
// in float64 and rounded once: 4x slower in the torch engine, bytes equal up to summation order).

/** Recorded in model folders and ONNX metadata; a model made with another resizer is refused or warned about. */
export const RESIZER = 'tlr-lanczos3/2';

/**
 * Resizers whose models tlr reads: this one, and tlr-lanczos3/1 (float64, rounded once), whose bytes differ from these
 * by at most one level (test/runtime/resize.test.ts), as a re-encoded JPEG's would.
 */
export const READABLE_RESIZERS: readonly string[] = [RESIZER, 'tlr-lanczos3/1'];

/** The definition in a sentence, for ONNX metadata: what a reader elsewhere must do to feed the model. */
export const RESIZE_DEFINITION =
  'squash to inputSize x inputSize with Lanczos a=3, the kernel stretched by the scale when shrinking, ' +
  'centred at (i + 0.5) * scale, weights normalised per output pixel, then rounded to 14-bit fixed point ' +
  '(the largest weight absorbing the remainder so each sums to 16384); rows first, then columns, each pass ' +
  'rounded, (sum + 8192) >> 14, the second clamped to 0..255';

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

/**
 * Integer taps: each output pixel's weights as whole numbers of 1/2^14 (rounded, floor(w * 2^14 + 0.5)), the largest
 * weight taking what rounding left over so that every pixel's weights add up to exactly 2^14 (a flat colour stays
 * itself).
 */
export interface FixedTaps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly width: number;
  /** Whole numbers, held as doubles: V8's double arithmetic has no overflow checks, and these sums stay below 2^31. */
  readonly weights: Float64Array;
}

export const FIXED_BITS = 14;
const ONE = 1 << FIXED_BITS,
  HALF = 1 << (FIXED_BITS - 1);

/** The integer taps of one axis (FixedTaps). */
export function fixedTaps(inSize: number, outSize: number): FixedTaps {
  const t = taps(inSize, outSize),
    weights = new Float64Array(t.weights.length);
  for (let i = 0; i < outSize; i++) {
    const base = i * t.width,
      n = t.count[i]!;
    let sum = 0,
      top = base;
    for (let j = base; j < base + n; j++) {
      weights[j] = Math.floor(t.weights[j]! * ONE + 0.5);
      sum += weights[j]!;
      if (t.weights[j]! > t.weights[top]!) top = j;
    }
    if (n) weights[top]! += ONE - sum;
  }
  return { start: t.start, count: t.count, width: t.width, weights };
}

// Images of a data set mostly share a few sizes: their taps are kept (a few kB each).
const kept = new Map<string, FixedTaps>();
function tapsFor(inSize: number, outSize: number): FixedTaps {
  const key = `${inSize}>${outSize}`;
  let t = kept.get(key);
  if (!t) {
    if (kept.size > 64) kept.clear();
    t = fixedTaps(inSize, outSize);
    kept.set(key, t);
  }
  return t;
}

/** A weighted sum of whole numbers of 1/2^14, back to a byte: round half up, clamped. */
const toByte = (acc: number): number => {
  const v = (acc + HALF) >> FIXED_BITS;
  return v < 0 ? 0 : Math.min(v, 255);
};

/**
 * RGB bytes (HWC) of width x height resized to outW x outH: across the rows, then down the columns, each pass in
 * integers (FixedTaps) and rounded, as Pillow's resizer does (which also clamps between them). Integer sums are the
 * same in any order, so the
 * torch engine's twin (resize.py) gives these bytes exactly.
 */
export function resizeRgb(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  if (width === outW && height === outH) return src;
  if (width === outW) return resizeDown(src, outW * 3, height, outH);
  const across = resizeAcross(src, width, height, outW);
  if (height !== outH) return resizeDown(across, outW * 3, height, outH);
  const out = new Uint8Array(across.length);
  for (let i = 0; i < out.length; i++) out[i] = across[i]! < 0 ? 0 : Math.min(across[i]!, 255);
  return out;
}

/**
 * Each row resampled to `outW` pixels, rounded to whole numbers but not clamped: Lanczos' overshoot at an edge (below
 * 0, above 255) goes on to the second pass, as it would in real numbers.
 */
function resizeAcross(src: Uint8Array, width: number, height: number, outW: number): Float64Array {
  const { start, count, width: tw, weights } = tapsFor(width, outW),
    out = new Float64Array(height * outW * 3);
  for (let y = 0; y < height; y++) {
    const rowStart = y * width * 3,
      o0 = y * outW * 3;
    for (let x = 0; x < outW; x++) {
      const base = x * tw,
        n = count[x]!;
      let r = 0,
        g = 0,
        b = 0;
      for (let k = 0, s = rowStart + start[x]! * 3; k < n; k++, s += 3) {
        const c = weights[base + k]!;
        r += src[s]! * c;
        g += src[s + 1]! * c;
        b += src[s + 2]! * c;
      }
      const o = o0 + x * 3;
      out[o] = (r + HALF) >> FIXED_BITS;
      out[o + 1] = (g + HALF) >> FIXED_BITS;
      out[o + 2] = (b + HALF) >> FIXED_BITS;
    }
  }
  return out;
}

/** Each column resampled to `outH` rows of `stride` bytes: whole rows weighted and added, which stays in cache. */
function resizeDown(src: Uint8Array | Float64Array, stride: number, height: number, outH: number): Uint8Array {
  const { start, count, width: tw, weights } = tapsFor(height, outH),
    out = new Uint8Array(outH * stride),
    acc = new Float64Array(stride);
  for (let y = 0; y < outH; y++) {
    acc.fill(0);
    for (let k = 0; k < count[y]!; k++) {
      const c = weights[y * tw + k]!,
        row = (start[y]! + k) * stride;
      for (let i = 0; i < stride; i++) acc[i]! += src[row + i]! * c;
    }
    const o = y * stride;
    for (let i = 0; i < stride; i++) out[o + i] = toByte(acc[i]!);
  }
  return out;
}
