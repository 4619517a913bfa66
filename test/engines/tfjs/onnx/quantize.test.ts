import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { buildLayers } from '../../../../src/engines/tfjs/tf-layers/build.js';
import { describe as catalog, graphOf } from '../../../../src/zoo/catalog.js';
import { compile } from '../../../../src/engines/tfjs/infer/program.js';
import { OnnxGraph } from '../../../../src/engines/tfjs/onnx/graph.js';
import { toOnnx } from '../../../../src/engines/tfjs/onnx/to-onnx.js';
import { activationParams, quantize, quantizedValues } from '../../../../src/engines/tfjs/onnx/quantize.js';
import { calibrationRanges, type CalibrationBatch, withOutputs } from '../../../../src/engines/tfjs/onnx/calibrate.js';
import { hasVnni } from '../../../../src/engines/tfjs/int8.js';
import { loadOrt } from '../../../../src/engines/tfjs/onnx/runtime.js';

// int8 QDQ: ONNX Runtime fuses every quantized group into an integer kernel (no float convolution, no Relu/Clip left,
// one Q at the input and one DQ at the end), the int8 network stays close to the float one, and bias correction
// removes the shift that rounding a kernel adds to an input with a large mean.

const { onnx } = onnxProto;
const loaded = loadOrt();
const SKIP = 'ort' in loaded ? '' : ` (skipped: ${loaded.error})`;
const ort = () => (loaded as Extract<ReturnType<typeof loadOrt>, { ort: unknown }>).ort;

/** Reproducible values in [lo, hi). */
function noise(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return a;
}

const batches = (size: number, n: number, seed: number): CalibrationBatch[] =>
  Array.from({ length: n }, (_, k) => ({ data: noise(4 * size * size * 3, seed + k), shape: [4, size, size, 3] }));

/** Runs `bytes` on `x`; with `optimized`, also writes the graph ONNX Runtime made of it there. */
async function run(bytes: Uint8Array, x: CalibrationBatch, optimized?: string): Promise<Float32Array> {
  const s = await ort().InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 2,
    ...(optimized ? { optimizedModelFilePath: optimized } : {}),
  });
  const y = (await s.run({ input: new (ort().Tensor)('float32', x.data, [...x.shape]) }))['output']!.data;
  await s.release();
  return y as Float32Array;
}

/** A zoo network's feature extractor (seeded stand-in weights) as float ONNX bytes. */
function floatModel(name: string, width: number | null, size: number): Uint8Array {
  const info = catalog(name, width, size),
    graph = graphOf(name, info.width, size);
  const model = buildLayers(graph, info.featureLayer, name, 1);
  const bytes = toOnnx(compile(graph, info.featureLayer, model));
  model.dispose();
  return bytes;
}

const opCounts = (file: string): Record<string, number> => {
  const c: Record<string, number> = {};
  for (const n of onnx.ModelProto.decode(fs.readFileSync(file)).graph!.node!) c[n.opType!] = (c[n.opType!] ?? 0) + 1;
  return c;
};

const relErr = (a: Float32Array, b: Float32Array) => {
  let e = 0,
    n = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    n += a[i]! ** 2;
  }
  return Math.sqrt(e / n);
};

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe.skipIf(!!SKIP)(`int8 QDQ on ONNX Runtime${SKIP}`, () => {
  const cases: [string, number | null, number, number][] = [
    // name, width, input size, convolutions
    ['resnet18', null, 64, 20],
    ['mobilenet_v2', 0.35, 64, 52],
  ];
  for (const [name, width, size, convs] of cases)
    it(`${name}: every convolution, add and pool fuses into an integer kernel, close to float`, async () => {
      const fp32 = floatModel(name, width, size),
        proto = onnx.ModelProto.decode(fp32);
      const cal = await calibrationRanges(ort(), proto, quantizedValues(proto), batches(size, 3, 1), 2, {
        method: 'Percentile',
        percentile: 99.99,
      });
      const int8 = quantize(proto, cal, { reduceRange: !hasVnni() });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-q8-'));
      const x = batches(size, 1, 99)[0]!;
      const [a, b] = [await run(fp32, x), await run(int8, x, path.join(dir, 'opt.onnx'))];
      const ops = opCounts(path.join(dir, 'opt.onnx'));
      expect(ops['QLinearConv']).toBe(convs);
      for (const op of ['Conv', 'Relu', 'Clip', 'Add', 'MaxPool', 'GlobalAveragePool']) expect(ops[op] ?? 0).toBe(0);
      expect([ops['QuantizeLinear'], ops['DequantizeLinear']]).toEqual([1, 1]);
      expect(relErr(a, b)).toBeLessThan(0.1);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 120_000);

  it('the extremes and channel means computed in the graph are those of every value, taken out and scanned', async () => {
    const proto = onnx.ModelProto.decode(floatModel('mobilenet_v2', 0.35, 64));
    const values = quantizedValues(proto),
      data = batches(64, 2, 7);
    const cal = await calibrationRanges(ort(), proto, values, data, 2, { method: 'MinMax' });
    // The oracle: every value out of ONNX Runtime, scanned here in float64.
    const s = await ort().InferenceSession.create(withOutputs(proto, values), { intraOpNumThreads: 2 });
    const lo = new Map<string, number>(),
      hi = new Map<string, number>(),
      sums = new Map<string, Float64Array>();
    for (const b of data) {
      const out = await s.run({ input: new (ort().Tensor)('float32', b.data, [...b.shape]) }, values);
      for (const v of values) {
        const d = out[v]!.data as Float32Array,
          [n, c] = [out[v]!.dims[0]!, out[v]!.dims[1]!],
          hw = d.length / (n * c),
          sum = sums.get(v) ?? sums.set(v, new Float64Array(c)).get(v)!;
        for (let k = 0; k < d.length; k++) {
          lo.set(v, Math.min(lo.get(v) ?? Infinity, d[k]!));
          hi.set(v, Math.max(hi.get(v) ?? -Infinity, d[k]!));
          sum[Math.floor(k / hw) % c]! += d[k]! / hw / 8;
        }
      }
    }
    await s.release();
    expect(values.length).toBeGreaterThan(50);
    for (const v of values) {
      expect(cal.ranges.get(v), v).toEqual({ min: lo.get(v), max: hi.get(v) });
      const [got, want] = [cal.means.get(v)!, sums.get(v)!];
      for (let c = 0; c < want.length; c++) expect(got[c]!, `${v} channel ${c}`).toBeCloseTo(want[c]!, 4);
    }
  }, 120_000);

  it('bias correction takes out the shift rounding adds to an input with a large mean', async () => {
    // One 1x1 convolution, 16 channels in, 4 out, on an input of mean 5 and small spread: its output is a sum of
    // large terms, so each kernel's rounding error times the mean shifts it.
    const g = new OnnxGraph();
    const input = g.name('input_nhwc');
    const x = g.node('Transpose', [input], { perm: [0, 3, 1, 2] });
    const kernel = noise(4 * 16, 7, -1, 1);
    const y = g.node('Conv', [x, g.float('k', kernel, [4, 16, 1, 1]), g.float('b', new Float32Array(4), [4])], {
      kernel_shape: [1, 1],
    });
    const bytes = g.encode({ input, output: y, inputShape: [8, 8, 16], outputShape: [4, 8, 8] }, {}, 'test');
    const proto = onnx.ModelProto.decode(bytes);
    const data = (seed: number): CalibrationBatch => ({
      data: noise(2 * 8 * 8 * 16, seed, 4.5, 5.5),
      shape: [2, 8, 8, 16],
    });
    const cal = await calibrationRanges(ort(), proto, quantizedValues(proto), [data(1), data(2)], 1, {
      method: 'MinMax',
    });
    const probe = data(3),
      want = await run(bytes, probe);
    const meanErr = async (means: Map<string, Float64Array>) => {
      const got = await run(quantize(proto, { ranges: cal.ranges, means }, { reduceRange: true }), probe);
      // Each output channel's mean shift (NCHW: 2 images, 4 channels of 64), averaged unsigned.
      const shift = [0, 0, 0, 0];
      for (let i = 0; i < got.length; i++) shift[Math.floor(i / 64) % 4]! += (got[i]! - want[i]!) / 128;
      return shift.reduce((a, b) => a + Math.abs(b), 0) / 4;
    };
    const [without, withIt] = [await meanErr(new Map()), await meanErr(cal.means)];
    expect(withIt).toBeLessThan(without / 3);
  });

  it('activation parameters hold zero exactly and give a ReLU output zero point 0', () => {
    expect(activationParams({ min: 0, max: 6 })).toEqual({ scale: 6 / 255, zero: 0 });
    expect(activationParams({ min: 1, max: 3 })).toEqual({ scale: 3 / 255, zero: 0 });
    const p = activationParams({ min: -1, max: 3 });
    expect(p.zero).toBe(64);
    expect(Math.abs(-p.zero * p.scale + 1)).toBeLessThan(p.scale);
    expect(activationParams({ min: 0, max: 0 })).toEqual({ scale: 1, zero: 0 });
  });

  it('uses 7-bit weights only on an x86 CPU with AVX2 and no VNNI', () => {
    expect(hasVnni('flags : fpu avx2 fma')).toBe(false);
    expect(hasVnni('flags : avx2 avx512f avx512_vnni')).toBe(true);
    expect(hasVnni('flags : avx2 avx_vnni')).toBe(true);
    expect(hasVnni('Features : fp asimd')).toBe(true);
  });
});
