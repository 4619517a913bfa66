import onnxProto, { type onnx as P } from 'onnx-proto';

// Static int8 quantization of an ONNX model tlr wrote, in the QDQ form: QuantizeLinear/DequantizeLinear pairs on the
// activations, int8 weights per output channel and int32 biases behind DequantizeLinear, placed so that ONNX Runtime
// fuses each DQ → op → Q group into one integer kernel (QLinearConv, QLinearAdd, QLinearConcat, QLinearAveragePool,
// QLinearGlobalAveragePool, uint8 MaxPool). A Relu or ReLU6 (Clip 0..6) after an op is left for ONNX Runtime to drop:
// the Q after it has zero point 0 and a range inside the clip, so the clip is the quantization itself. Pairs that do
// not fuse make a model slower than float, so only ops with an integer kernel get them; the head's dense layers
// (Gemm) and everything else stay float, reading the DequantizeLinear of a quantized value.

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;

/** An activation's observed range over the calibration images (MinMax). */
export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface QuantizeOptions {
  /**
   * Weights in 7 bits ([-63, 63]) instead of 8: on x86 CPUs without VNNI, ONNX Runtime multiplies uint8 by int8 with
   * an instruction whose pairwise int16 sums saturate at full range.
   */
  readonly reduceRange: boolean;
}

/** Ops with an integer kernel in ONNX Runtime's CPU provider, and how each quantizes. */
const INT8_OPS: Readonly<Record<string, { weights: boolean; sameRange: boolean }>> = {
  Conv: { weights: true, sameRange: false },
  Add: { weights: false, sameRange: false },
  Concat: { weights: false, sameRange: false },
  AveragePool: { weights: false, sameRange: false },
  GlobalAveragePool: { weights: false, sameRange: false },
  // A uint8 max pool only when its output keeps its input's scale and zero point.
  MaxPool: { weights: false, sameRange: true },
};

/** The op types that get an integer kernel. */
export const INT8_OP_TYPES: readonly string[] = Object.keys(INT8_OPS);

/** Activations a Q after them can absorb (Relu; Clip to [0, 6]). */
export const CLIPS: ReadonlySet<string> = new Set(['Relu', 'Clip']);

interface Graph {
  readonly nodes: readonly P.INodeProto[];
  readonly inits: Map<string, P.ITensorProto>;
  readonly producer: Map<string, P.INodeProto>;
  readonly consumers: Map<string, P.INodeProto[]>;
}

function graphOf(model: P.IModelProto): Graph {
  const nodes = model.graph?.node ?? [];
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name!, t]));
  const producer = new Map<string, P.INodeProto>(),
    consumers = new Map<string, P.INodeProto[]>();
  for (const n of nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  return { nodes, inits, producer, consumers };
}

const isInt8 = (g: Graph, n: P.INodeProto): boolean => {
  const op = INT8_OPS[n.opType ?? ''];
  if (!op) return false;
  // A convolution quantizes only with its kernel (and bias) as constants.
  return !op.weights || (n.input ?? []).slice(1).every((i) => g.inits.has(i));
};

/** The activation inputs of an int8 op: the data input of a convolution, every input of the others. */
const dataInputs = (n: P.INodeProto): string[] => (INT8_OPS[n.opType!]!.weights ? [n.input![0]!] : [...n.input!]);

/** Where an int8 op's output is quantized: after a Relu/Clip that is its only reader, else the output itself. */
function chainEnd(g: Graph, n: P.INodeProto): string {
  const y = n.output![0]!,
    readers = g.consumers.get(y) ?? [];
  const only = readers.length === 1 ? readers[0]! : null;
  if (only && CLIPS.has(only.opType!) && clipsToReluRange(g, only)) return only.output![0]!;
  return y;
}

/** A Relu, or a Clip whose lower bound is 0 (ReLU6): a Q with zero point 0 holds the same set of values. */
function clipsToReluRange(g: Graph, n: P.INodeProto): boolean {
  if (n.opType === 'Relu') return true;
  const lo = n.input?.[1] ? g.inits.get(n.input[1]) : undefined;
  return !!lo && floats(lo)[0] === 0;
}

/**
 * The values that get a QuantizeLinear/DequantizeLinear pair: every activation an int8 op reads, and every int8 op's
 * output (after its Relu/Clip). These are what calibration measures.
 */
export function quantizedValues(model: P.IModelProto): string[] {
  const g = graphOf(model);
  const out = new Set<string>();
  for (const n of g.nodes.filter((n) => isInt8(g, n))) {
    for (const i of dataInputs(n)) if (!g.inits.has(i)) out.add(i);
    out.add(chainEnd(g, n));
  }
  return [...out];
}

export function floats(t: P.ITensorProto): Float32Array {
  if (t.rawData?.length) {
    const copy = new Uint8Array(t.rawData);
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** uint8 scale and zero point of a range widened to hold 0 (zero padding must stay exact). */
export function activationParams(r: Range): { scale: number; zero: number } {
  const lo = Math.min(r.min, 0),
    hi = Math.max(r.max, 0);
  const scale = hi - lo > 1e-12 ? (hi - lo) / 255 : 1;
  return { scale, zero: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

class Builder {
  readonly inits: P.ITensorProto[] = [];
  private n = 0;
  constructor(private readonly prefix: string) {}

  tensor(hint: string, type: number, dims: number[], raw: ArrayBufferView): string {
    const name = `${this.prefix}${hint}_${this.n++}`;
    const rawData = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength).slice();
    this.inits.push({ name, dataType: type, dims, rawData });
    return name;
  }
}

/** A convolution's weights to quantize: its kernel [O, I/group, kh, kw], bias, group, and its input's channel means. */
interface ConvWeights {
  readonly kernel: P.ITensorProto;
  readonly bias: P.ITensorProto | undefined;
  readonly group: number;
  readonly mean: Float64Array | undefined;
}

/**
 * Symmetric per-channel int8 codes of a kernel, and each channel's scale. With the input's channel means, each output
 * channel's bias is corrected by the mean error the rounding adds (bias correction: b - sum(W_err * E[x])): an input
 * with a large constant part (after a ReLU6, say) otherwise turns small rounding errors into a shifted output.
 */
function roundKernel(w: ConvWeights, qmax: number) {
  const k = floats(w.kernel),
    dims = (w.kernel.dims ?? []).map(Number);
  const [channels, perGroup] = [dims[0]!, dims[1]!],
    per = k.length / channels,
    taps = per / perGroup,
    outPerGroup = channels / w.group;
  const q = new Int8Array(k.length),
    scales = new Float32Array(channels),
    bias = w.bias ? floats(w.bias) : new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    let m = 0;
    for (let i = o * per; i < (o + 1) * per; i++) m = Math.max(m, Math.abs(k[i]!));
    const s = m > 0 ? m / qmax : 1,
      first = Math.floor(o / outPerGroup) * perGroup;
    scales[o] = s;
    for (let i = o * per; i < (o + 1) * per; i++) {
      q[i] = Math.max(-qmax, Math.min(qmax, Math.round(k[i]! / s)));
      if (w.mean) bias[o]! -= (q[i]! * s - k[i]!) * w.mean[first + Math.floor((i - o * per) / taps)]!;
    }
  }
  return { q, scales, bias, dims, channels };
}

/**
 * A convolution's kernel as int8 per output channel (symmetric, zero point 0) and its bias as int32 at the input's
 * scale times each channel's, each behind a DequantizeLinear along axis 0.
 */
function quantizeConvWeights(
  b: Builder,
  w: ConvWeights,
  inputScale: number,
  qmax: number,
): { nodes: P.INodeProto[]; kernel: string; bias?: string } {
  const { q, scales, bias, dims, channels } = roundKernel(w, qmax);
  const wq = b.tensor('w_q', T.INT8, dims, q),
    ws = b.tensor('w_scale', T.FLOAT, [channels], scales),
    wz = b.tensor('w_zero', T.INT8, [channels], new Int8Array(channels));
  const kernelOut = `${wq}_dq`;
  const nodes: P.INodeProto[] = [dq(wq, ws, wz, kernelOut, 0)];
  if (!w.bias && !w.mean) return { nodes, kernel: kernelOut };
  const bs = scales.map((s) => s * inputScale),
    bq = Int32Array.from(bias, (v, o) => Math.round(v / bs[o]!));
  const bqName = b.tensor('b_q', T.INT32, [channels], bq);
  const zero = b.tensor('b_zero', T.INT32, [channels], new Int32Array(channels));
  nodes.push(dq(bqName, b.tensor('b_scale', T.FLOAT, [channels], bs), zero, `${bqName}_dq`, 0));
  return { nodes, kernel: kernelOut, bias: `${bqName}_dq` };
}

const dq = (x: string, scale: string, zero: string, out: string, axis?: number): P.INodeProto => ({
  opType: 'DequantizeLinear',
  name: out,
  input: [x, scale, zero],
  output: [out],
  attribute: axis === undefined ? [] : [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis }],
});

/** Each quantized value's uint8 parameters: its own range, or its input's for a max pool (so it stays uint8). */
function paramsOf(g: Graph, values: readonly string[], ranges: ReadonlyMap<string, Range>) {
  const params = new Map<string, { scale: number; zero: number }>();
  const rangeOf = (v: string): Range => {
    const r = ranges.get(v);
    if (!r) throw new Error(`no calibration range for ${v}`);
    return r;
  };
  for (const v of values) {
    const p = g.producer.get(v);
    const same = p && INT8_OPS[p.opType ?? '']?.sameRange && values.includes(p.input![0]!);
    params.set(v, activationParams(rangeOf(same ? p.input![0]! : v)));
  }
  return params;
}

/**
 * The model with int8 QDQ: each quantized value passes through QuantizeLinear (uint8, per tensor, from its range) and
 * DequantizeLinear once, and every reader reads the dequantized value; convolutions read int8 kernels and int32
 * biases, corrected by their inputs' channel means. `calibration` holds each of `quantizedValues(model)`.
 */
export function quantize(
  model: P.IModelProto,
  calibration: { ranges: ReadonlyMap<string, Range>; means: ReadonlyMap<string, Float64Array> },
  opts: QuantizeOptions,
): Uint8Array {
  const g = graphOf(model),
    values = quantizedValues(model),
    params = paramsOf(g, values, calibration.ranges);
  const b = new Builder('q8_'),
    qmax = opts.reduceRange ? 63 : 127;
  const renamed = new Map(values.map((v) => [v, `${v}_dq`]));
  const out: P.INodeProto[] = [];
  const graphInputs = new Set((model.graph?.input ?? []).map((i) => i.name!));
  const pairs = (v: string): P.INodeProto[] => {
    const p = params.get(v)!;
    const s = b.tensor('scale', T.FLOAT, [], new Float32Array([p.scale])),
      z = b.tensor('zero', T.UINT8, [], new Uint8Array([p.zero]));
    const q: P.INodeProto = { opType: 'QuantizeLinear', name: `${v}_q`, input: [v, s, z], output: [`${v}_q`] };
    return [q, dq(`${v}_q`, s, z, renamed.get(v)!)];
  };
  // Values the graph's inputs give get their pairs first; the others right after the node that makes them.
  for (const v of values) if (graphInputs.has(v)) out.push(...pairs(v));
  for (const n of g.nodes) {
    const node: P.INodeProto = { ...n, input: (n.input ?? []).map((i) => renamed.get(i) ?? i) };
    if (isInt8(g, n) && INT8_OPS[n.opType!]!.weights) {
      const w = quantizeConvWeights(b, convWeights(g, n, calibration.means), params.get(n.input![0]!)!.scale, qmax);
      out.push(...w.nodes);
      node.input = [node.input![0]!, w.kernel, ...(w.bias ? [w.bias] : [])];
    }
    out.push(node);
    for (const o of n.output ?? []) if (renamed.has(o)) out.push(...pairs(o));
  }
  // Graph outputs keep their names: a quantized value that is one is read back through its DequantizeLinear.
  const outputs = new Set((model.graph?.output ?? []).map((o) => o.name!));
  for (const o of outputs)
    if (renamed.has(o)) throw new Error(`the graph output ${o} is a quantized value; end the graph with an Identity`);
  const kept = (model.graph?.initializer ?? []).filter((t) => !quantizedWeight(g, t.name!));
  const q: P.IModelProto = {
    ...model,
    graph: { ...model.graph, node: out, initializer: [...kept, ...b.inits] },
  };
  return onnx.ModelProto.encode(q).finish();
}

const convWeights = (g: Graph, n: P.INodeProto, means: ReadonlyMap<string, Float64Array>): ConvWeights => ({
  kernel: g.inits.get(n.input![1]!)!,
  bias: g.inits.get(n.input![2] ?? ''),
  group: Number((n.attribute ?? []).find((a) => a.name === 'group')?.i ?? 1),
  mean: means.get(n.input![0]!),
});

/** A float kernel or bias a quantized convolution replaced (read by no other node). */
function quantizedWeight(g: Graph, name: string): boolean {
  const readers = g.consumers.get(name) ?? [];
  return (
    readers.length > 0 && readers.every((n) => isInt8(g, n) && INT8_OPS[n.opType!]!.weights && n.input![0] !== name)
  );
}
