import onnxProto, { type onnx as P } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import type { Range } from './quantize.js';

// Calibration for static quantization, by MinMax: the model runs on the calibration images with every value to be
// quantized as an extra output, and each value's range is the least and greatest number it took on any image.

const { onnx } = onnxProto;

/** The model with `values` as extra float outputs (their shapes left to ONNX Runtime). */
export function withOutputs(model: P.IModelProto, values: readonly string[]): Uint8Array {
  const extra = values.map((name) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
  const m: P.IModelProto = { ...model, graph: { ...model.graph, output: [...(model.graph?.output ?? []), ...extra] } };
  return onnx.ModelProto.encode(m).finish();
}

/** A batch of preprocessed images, NHWC float32. */
export interface CalibrationBatch {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** How ranges are chosen: the extremes seen (MinMax), or with the rarest values in each tail clipped (Percentile). */
export type CalibrationMethod =
  | { readonly method: 'MinMax' }
  | { readonly method: 'Percentile'; readonly percentile: number };

const BINS = 4096;

/**
 * Images a calibration run takes at once. Every value of the network comes out of such a run, all of them new memory:
 * measured on ResNet-50 (17 M values an image), a run of 8 images took 390 ms an image, one of 2 images 60.
 */
const RUN_IMAGES = 2;

/** Runs the model on every batch, `RUN_IMAGES` images at a time, handing each value's output to `see`. */
async function pass(
  sess: Ort.InferenceSession,
  ort: typeof Ort,
  values: readonly string[],
  batches: readonly CalibrationBatch[],
  see: (v: string, d: Float32Array, dims: readonly number[]) => void,
): Promise<void> {
  for (const b of batches) {
    const n = b.shape[0]!,
      per = b.data.length / n;
    for (let i = 0; i < n; i += RUN_IMAGES) {
      const k = Math.min(RUN_IMAGES, n - i);
      const x = new ort.Tensor('float32', b.data.subarray(i * per, (i + k) * per), [k, ...b.shape.slice(1)]);
      const out = await sess.run({ input: x }, [...values]);
      for (const v of values) {
        see(v, out[v]!.data as Float32Array, out[v]!.dims);
        out[v]!.dispose();
      }
    }
  }
}

/** The value at fraction `q` of a histogram over [lo, hi] (a bin's edge). */
function quantile(hist: Float64Array, lo: number, hi: number, q: number): number {
  const total = hist.reduce((a, b) => a + b, 0),
    want = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= want) return lo + ((i + (q < 0.5 ? 0 : 1)) * (hi - lo)) / hist.length;
  }
  return hi;
}

/** What calibration measures: each value's range, and its mean per channel (axis 1) for bias correction. */
export interface Calibration {
  readonly ranges: Map<string, Range>;
  readonly means: Map<string, Float64Array>;
}

/** Adds each channel's mean over one batch (NCHW or [N, C]), weighted by its images, into `sums`. */
function addChannelMeans(sums: Float64Array, d: Float32Array, dims: readonly number[]): void {
  const [n, c] = [dims[0]!, dims[1]!],
    hw = d.length / (n * c);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++) {
      let a = 0;
      const at = (i * c + ch) * hw;
      for (let k = 0; k < hw; k++) a += d[at + k]!;
      sums[ch]! += a / hw;
    }
}

/**
 * Each value's range over the batches: MinMax takes the extremes; Percentile takes the `percentile`% of values in the
 * middle (a second pass fills a histogram of 4096 bins between the extremes), so that a few outliers do not widen the
 * quantization step of all the others. The session is made and released here; `threads` intra-op threads.
 */
export async function calibrationRanges(
  ort: typeof Ort,
  model: P.IModelProto,
  values: readonly string[],
  batches: readonly CalibrationBatch[],
  threads: number,
  how: CalibrationMethod,
): Promise<Calibration> {
  const sess = await ort.InferenceSession.create(withOutputs(model, values), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
  });
  const lo = new Map(values.map((v) => [v, Infinity])),
    hi = new Map(values.map((v) => [v, -Infinity]));
  const sums = new Map<string, Float64Array>();
  let images = 0;
  try {
    await pass(sess, ort, values, batches, (v, d, dims) => {
      if (dims.length >= 2) addChannelMeans(sums.get(v) ?? sums.set(v, new Float64Array(dims[1]!)).get(v)!, d, dims);
      let mn = lo.get(v)!,
        mx = hi.get(v)!;
      for (let i = 0; i < d.length; i++) {
        const x = d[i]!;
        if (x < mn) mn = x;
        if (x > mx) mx = x;
      }
      lo.set(v, mn);
      hi.set(v, mx);
    });
    for (const b of batches) images += b.shape[0]!;
    for (const v of values)
      if (!Number.isFinite(lo.get(v)!) || !Number.isFinite(hi.get(v)!))
        throw new Error(`calibration saw no finite values of ${v}`);
    const means = new Map([...sums].map(([v, s]) => [v, s.map((x) => x / images)]));
    if (how.method === 'MinMax')
      return { ranges: new Map(values.map((v) => [v, { min: lo.get(v)!, max: hi.get(v)! }])), means };
    const hists = new Map(values.map((v) => [v, new Float64Array(BINS)]));
    await pass(sess, ort, values, batches, (v, d) => {
      const h = hists.get(v)!,
        a = lo.get(v)!,
        k = (BINS - 1e-9) / Math.max(hi.get(v)! - a, 1e-30);
      for (let i = 0; i < d.length; i++) h[Math.floor((d[i]! - a) * k)]!++;
    });
    const tail = (1 - how.percentile / 100) / 2;
    const ranges = new Map(
      values.map((v) => {
        const [a, b] = [lo.get(v)!, hi.get(v)!];
        return [v, { min: quantile(hists.get(v)!, a, b, tail), max: quantile(hists.get(v)!, a, b, 1 - tail) }];
      }),
    );
    return { ranges, means };
  } finally {
    await sess.release();
  }
}
