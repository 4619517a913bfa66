import { RESIZE_WASM } from './resize-wasm.js';

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

/**
 * Recorded in model folders and ONNX metadata; a model made with another resizer is refused or warned about. Version 3
 * decodes a large JPEG at a reduced size first (jpegScale); smaller images and other formats get version 2's bytes.
 */
export const RESIZER = 'tlr-lanczos3/3';

/**
 * Resizers whose models tlr reads, each fed as it was trained: this one; tlr-lanczos3/2, which decodes every JPEG
 * whole; and tlr-lanczos3/1 (float64, rounded once), read as version 2, whose bytes differ from its own by at most one
 * level (test/runtime/resize.test.ts), as a re-encoded JPEG's would.
 */
export const READABLE_RESIZERS: readonly string[] = [RESIZER, 'tlr-lanczos3/2', 'tlr-lanczos3/1'];

/** The resizer a model's preprocessing names; absent, tlr-lanczos3/1: the model was saved before it was recorded. */
export const resizerOf = (pre: { readonly resize?: string | undefined }): string => pre.resize ?? 'tlr-lanczos3/1';

/** Whether models of `resizer` see large JPEGs decoded at a reduced size (jpegScale). */
export const reducesJpegs = (resizer: string): boolean => resizer === RESIZER;

/**
 * The JPEG decoding scale of tlr-lanczos3/3: 1/k, k the largest of 8, 4 and 2 at most min(width div s, height div s)
 * for an input of s x s, else 1 (whole): a JPEG at least twice the input each way is reduced. libjpeg's DCT scaling
 * gives ceil(width / k) x ceil(height / k) pixels straight from the coefficients (a low-pass of its own), still at
 * least the input each way, and the resizer finishes. It is the rule of Pillow's `draft` asked for s x s. Width and
 * height are the stored ones, before EXIF orientation; the input is square, so turning does not change k.
 */
export function jpegScale(width: number, height: number, size: number): 1 | 2 | 4 | 8 {
  const m = Math.min(Math.floor(width / size), Math.floor(height / size));
  return m >= 8 ? 8 : m >= 4 ? 4 : m >= 2 ? 2 : 1;
}

const SQUASH =
  'squash to inputSize x inputSize with Lanczos a=3, the kernel stretched by the scale when shrinking, ' +
  'centred at (i + 0.5) * scale, weights normalised per output pixel, then rounded to 14-bit fixed point ' +
  '(the largest weight absorbing the remainder so each sums to 16384); rows first, then columns, each pass ' +
  'rounded, (sum + 8192) >> 14, the second clamped to 0..255';

/** A resizer's definition in a sentence, for ONNX metadata: what a reader elsewhere must do to feed the model. */
export function resizeDefinition(resizer: string): string {
  return reducesJpegs(resizer)
    ? 'decode a JPEG (not CMYK) of w x h pixels at 1/k by libjpeg DCT scaling (accurate integer IDCT, fancy ' +
        'upsampling), k the largest of 8, 4, 2 not above min(floor(w / inputSize), floor(h / inputSize)), ' +
        `else whole; then ${SQUASH}`
    : SQUASH;
}

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
  /** Whole numbers, held as doubles (exact); resize.wat multiplies them as i16 (axisTaps). */
  readonly weights: Float64Array;
}

export const FIXED_BITS = 14;
const ONE = 1 << FIXED_BITS;

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

// Images of a data set mostly share a few sizes: their taps are kept, laid out as the WebAssembly
// passes read them (a few kB each).
const kept = new Map<string, AxisTaps>();
function tapsFor(inSize: number, outSize: number, across: boolean): AxisTaps {
  const key = `${across ? 'x' : 'y'}${inSize}>${outSize}`;
  let t = kept.get(key);
  if (!t) {
    if (kept.size > 64) kept.clear();
    t = axisTaps(fixedTaps(inSize, outSize), across);
    kept.set(key, t);
  }
  return t;
}

/**
 * One axis's integer taps as resize.wat reads them: per output, the first source index, the number of vectors, and
 * the vectors (i16 x 8 each). Across the rows, one vector holds a pair of taps (w0 w1 w0 w1 w0 w1 0 0), one dot
 * product for two pixels' red, green and blue; down the columns, one tap's weight in all 8 lanes.
 */
interface AxisTaps {
  readonly start: Int32Array;
  readonly vectors: Int32Array;
  readonly weights: Int16Array;
}

function axisTaps(t: FixedTaps, across: boolean): AxisTaps {
  const n = t.start.length,
    vectors = new Int32Array(n);
  for (let i = 0; i < n; i++) vectors[i] = Math.max(1, across ? Math.ceil(t.count[i]! / 2) : t.count[i]!);
  const weights = new Int16Array(vectors.reduce((a, b) => a + b, 0) * 8);
  for (let i = 0, v = 0; i < n; v += vectors[i]!, i++)
    for (let k = 0; k < t.count[i]!; k++) {
      const w = t.weights[i * t.width + k]!;
      // Never reached by a real size (a weight is at most about 1.1 x 2^14), but i16 is what the passes multiply.
      if (w < -32768 || w > 32767) throw new Error(`resize: a tap of ${w} / 2^14 does not fit 16 bits`);
      if (across) for (const lane of [0, 2, 4]) weights[(v + (k >> 1)) * 8 + lane + (k & 1)] = w;
      else weights.fill(w, (v + k) * 8, (v + k + 1) * 8);
    }
  return { start: t.start, vectors, weights };
}

const PAD = 16;
const up8 = (n: number) => (n + 7) & ~7;
// One instance, its memory grown to the largest image so far; an image needing more than this gets a
// fresh instance of its own, so one huge photo does not hold its memory for the rest of the process.
const KEEP_BYTES = 64 << 20;
let compiled: WebAssembly.Module | null = null,
  shared: Passes | null = null;

interface Passes {
  readonly memory: WebAssembly.Memory;
  across(
    src: number,
    srcStride: number,
    rows: number,
    dst: number,
    dstStride: number,
    outW: number,
    taps: number,
  ): void;
  down(
    mid: number,
    midStride: number,
    outH: number,
    groups: number,
    dst: number,
    dstStride: number,
    taps: number,
  ): void;
  normalize(src: number, groups: number, dst: number, k: number): void;
}

/** The sizes whose taps each instance holds at the start of its memory. */
const laidOut = new WeakMap<Passes, string>();

/** A fresh instance of resize.wat's module, with a memory of its own (normalize.ts keeps one). */
export function instantiate(): Passes {
  compiled ??= new WebAssembly.Module(Buffer.from(RESIZE_WASM, 'base64'));
  return new WebAssembly.Instance(compiled).exports as unknown as Passes;
}

function passes(bytes: number): Passes {
  if (bytes > KEEP_BYTES) return instantiate();
  shared ??= instantiate();
  return shared;
}

/** Writes one axis's table (3 i32 per output) and vectors at `at`; returns where they end. */
function writeTaps(mem: WebAssembly.Memory, at: number, t: AxisTaps, startBytes: number): number {
  const n = t.start.length,
    table = new Int32Array(mem.buffer, at, n * 3);
  let w = at + n * 12;
  new Int16Array(mem.buffer, w, t.weights.length).set(t.weights);
  for (let i = 0; i < n; i++) {
    table[i * 3] = t.start[i]! * startBytes;
    table[i * 3 + 1] = t.vectors[i]!;
    table[i * 3 + 2] = w;
    w += t.vectors[i]! * 16;
  }
  return w;
}

/**
 * RGB bytes (HWC) of width x height resized to outW x outH: across the rows, then down the columns, each pass in
 * integers (FixedTaps) and rounded, as Pillow's resizer does (which also clamps between them). Integer sums are the
 * same in any order, so the torch engine's twin (resize.py) gives these bytes exactly. The passes run in WebAssembly
 * SIMD (resize.wat); an axis whose size does not change goes through taps of one weight, 2^14, which give each value
 * back as it was.
 */
export function resizeRgb(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  if (width === outW && height === outH) return src;
  const tx = tapsFor(width, outW, true),
    ty = tapsFor(height, outH, false);
  const midStride = up8(outW * 3) * 2,
    dstStride = up8(outW * 3);
  const tables = 12 * (outW + outH) + 2 * (tx.weights.length + ty.weights.length),
    srcAt = (tables + PAD + 15) & ~15,
    midAt = srcAt + src.length + PAD,
    dstAt = midAt + height * midStride + PAD,
    end = dstAt + outH * dstStride + PAD;
  const p = passes(end);
  const grow = end - p.memory.buffer.byteLength;
  if (grow > 0) p.memory.grow(Math.ceil(grow / 65536));
  // Images of one size in a row (most of a data set) reuse the taps already in memory.
  const sizes = `${width}x${height}>${outW}x${outH}`,
    yAt = 12 * outW + 2 * tx.weights.length;
  if (laidOut.get(p) !== sizes) {
    writeTaps(p.memory, 0, tx, 3);
    writeTaps(p.memory, yAt, ty, midStride);
    laidOut.set(p, sizes);
  }
  new Uint8Array(p.memory.buffer, srcAt, src.length).set(src);
  p.across(srcAt, width * 3, height, midAt, midStride, outW, 0);
  p.down(midAt, midStride, outH, dstStride / 8, dstAt, dstStride, yAt);
  const out = new Uint8Array(outH * outW * 3),
    from = new Uint8Array(p.memory.buffer, dstAt, outH * dstStride);
  if (dstStride === outW * 3) out.set(from.subarray(0, out.length));
  else for (let y = 0; y < outH; y++) out.set(from.subarray(y * dstStride, y * dstStride + outW * 3), y * outW * 3);
  return out;
}
