import onnxProto, { type onnx as P } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import type { Range } from './quantize.js';

// Calibration for static quantization. The model runs on the calibration images; each value to be quantized gets its
// range (MinMax: the least and greatest number it took on any image; Percentile: a histogram's middle) and its mean
// per channel. The extremes and means are computed inside the graph (ReduceMin, ReduceMax, a mean per image and
// channel), so that pass hands ONNX Runtime's outputs of a few numbers to JavaScript rather than every activation;
// only Percentile's histogram pass takes every value out.

const { onnx } = onnxProto;

/** The model with `values` as extra float outputs (their shapes left to ONNX Runtime). */
export function withOutputs(model: P.IModelProto, values: readonly string[]): Uint8Array {
  const extra = values.map((name) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
  const m: P.IModelProto = { ...model, graph: { ...model.graph, output: [...(model.graph?.output ?? []), ...extra] } };
  return onnx.ModelProto.encode(m).finish();
}

const attr = (name: string, v: number | number[]): P.IAttributeProto =>
  Array.isArray(v)
    ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
    : { name, type: onnx.AttributeProto.AttributeType.INT, i: v };

/** The output names of value `i`'s statistics: its least and greatest element, its mean per image and channel. */
const statNames = (i: number): [string, string, string] => [
  `tlr_calibration_min_${i}`,
  `tlr_calibration_max_${i}`,
  `tlr_calibration_mean_${i}`,
];

/**
 * The model with each value's statistics as its only extra outputs: ReduceMin and ReduceMax over every axis, and the
 * mean over axes 2 and on (Flatten at axis 2, then ReduceMean over axis 1: [N x C], whatever the value's rank).
 */
export function withStatistics(model: P.IModelProto, values: readonly string[]): Uint8Array {
  const nodes: P.INodeProto[] = values.flatMap((v, i) => {
    const [min, max, mean] = statNames(i),
      flat = `tlr_calibration_flat_${i}`;
    return [
      { opType: 'ReduceMin', input: [v], output: [min], attribute: [attr('keepdims', 0)] },
      { opType: 'ReduceMax', input: [v], output: [max], attribute: [attr('keepdims', 0)] },
      { opType: 'Flatten', input: [v], output: [flat], attribute: [attr('axis', 2)] },
      { opType: 'ReduceMean', input: [flat], output: [mean], attribute: [attr('axes', [1]), attr('keepdims', 0)] },
    ];
  });
  const extra = values.flatMap((_, i) =>
    statNames(i).map((name) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } })),
  );
  const graph = model.graph ?? {};
  const m: P.IModelProto = {
    ...model,
    graph: { ...graph, node: [...(graph.node ?? []), ...nodes], output: [...(graph.output ?? []), ...extra] },
  };
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

/** Runs the model on every batch, `RUN_IMAGES` images at a time, handing each value's output to `see` by its index. */
async function pass(
  sess: Ort.InferenceSession,
  ort: typeof Ort,
  values: readonly string[],
  batches: readonly CalibrationBatch[],
  see: (i: number, d: Float32Array) => void,
): Promise<void> {
  for (const b of batches) {
    const n = b.shape[0]!,
      per = b.data.length / n;
    for (let i = 0; i < n; i += RUN_IMAGES) {
      const k = Math.min(RUN_IMAGES, n - i);
      const x = new ort.Tensor('float32', b.data.subarray(i * per, (i + k) * per), [k, ...b.shape.slice(1)]);
      const out = await sess.run({ input: x }, [...values]);
      values.forEach((v, j) => {
        see(j, out[v]!.data as Float32Array);
        out[v]!.dispose();
      });
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

const options = (threads: number) => ({
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionProviders: ['cpu'],
});

/** Each value's extremes over the batches and its mean per channel (axis 1), from the statistics model. */
async function statistics(
  ort: typeof Ort,
  model: P.IModelProto,
  values: readonly string[],
  batches: readonly CalibrationBatch[],
  threads: number,
): Promise<{ lo: number[]; hi: number[]; means: Map<string, Float64Array> }> {
  const sess = await ort.InferenceSession.create(withStatistics(model, values), options(threads));
  const lo = values.map(() => Infinity),
    hi = values.map(() => -Infinity),
    sums = new Map<string, Float64Array>(),
    names = values.flatMap((_, i) => statNames(i));
  let images = 0;
  try {
    for (const b of batches) {
      const n = b.shape[0]!,
        out = await sess.run({ input: new ort.Tensor('float32', b.data, [...b.shape]) }, names);
      images += n;
      values.forEach((v, i) => {
        const [min, max, mean] = statNames(i).map((k) => out[k]!);
        lo[i] = Math.min(lo[i]!, (min!.data as Float32Array)[0]!);
        hi[i] = Math.max(hi[i]!, (max!.data as Float32Array)[0]!);
        const d = mean!.data as Float32Array,
          c = d.length / n,
          s = sums.get(v) ?? sums.set(v, new Float64Array(c)).get(v)!;
        for (let k = 0; k < d.length; k++) s[k % c]! += d[k]!;
        for (const t of [min, max, mean]) t!.dispose();
      });
    }
  } finally {
    await sess.release();
  }
  values.forEach((v, i) => {
    if (!Number.isFinite(lo[i]!) || !Number.isFinite(hi[i]!))
      throw new Error(`calibration saw no finite values of ${v}`);
  });
  return { lo, hi, means: new Map([...sums].map(([v, s]) => [v, s.map((x) => x / images)])) };
}

/**
 * Each value's range over the batches: MinMax takes the extremes; Percentile takes the `percentile`% of values in the
 * middle (a second pass fills a histogram of 4096 bins between the extremes), so that a few outliers do not widen the
 * quantization step of all the others. The sessions are made and released here; `threads` intra-op threads.
 */
export async function calibrationRanges(
  ort: typeof Ort,
  model: P.IModelProto,
  values: readonly string[],
  batches: readonly CalibrationBatch[],
  threads: number,
  how: CalibrationMethod,
): Promise<Calibration> {
  const { lo, hi, means } = await statistics(ort, model, values, batches, threads);
  if (how.method === 'MinMax')
    return { ranges: new Map(values.map((v, i) => [v, { min: lo[i]!, max: hi[i]! }])), means };
  const sess = await ort.InferenceSession.create(withOutputs(model, values), options(threads));
  const hists = values.map(() => new Float64Array(BINS));
  try {
    await pass(sess, ort, values, batches, (i, d) => {
      const h = hists[i]!,
        a = lo[i]!,
        k = (BINS - 1e-9) / Math.max(hi[i]! - a, 1e-30);
      for (let j = 0; j < d.length; j++) h[Math.floor((d[j]! - a) * k)]!++;
    });
  } finally {
    await sess.release();
  }
  const tail = (1 - how.percentile / 100) / 2;
  const ranges = new Map(
    values.map((v, i) => {
      const [a, b, h] = [lo[i]!, hi[i]!, hists[i]!];
      return [v, { min: quantile(h, a, b, tail), max: quantile(h, a, b, 1 - tail) }];
    }),
  );
  return { ranges, means };
}
