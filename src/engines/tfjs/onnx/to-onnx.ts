import type { Activation, Padding, Program, Step } from '../../../zoo/program.js';
import { OnnxGraph } from './graph.js';
import { TLR_VERSION } from '../../../version.js';
import { TlrError } from '../../../errors.js';

// An inference program as an ONNX model. tlr's data is NHWC; inside the ONNX graph it is NCHW,
// transposed once at the input and once at the output (for a 4-d output). Each kind of program
// step has one ONNX form, in the table STEPS; the mapped type makes a missing kind a type error.

/** A step, activation or option that has no ONNX form. */
export class OnnxExportError extends TlrError {}

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

interface Ctx {
  readonly g: OnnxGraph;
  readonly program: Program;
  /** Value names of earlier steps (and -1: the input), and their NHWC shapes without the batch axis. */
  value(i: number): string;
  shape(i: number): readonly number[];
}

interface Out {
  readonly name: string;
  readonly shape: readonly number[];
}

/** OIHW from HWIO (a convolution), or [C*m, 1, kh, kw] from [kh, kw, C, m] (a depthwise one). */
function convKernel(
  data: Float32Array,
  shape: readonly number[],
  depthwise: boolean,
): { data: Float32Array; dims: number[] } {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  // HWIO index ((y*kw + x)*ci + i)*co + o → OIHW ((o*ci + i)*kh + y)*kw + x; depthwise: [c, m] → row c*m + m.
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) {
          const src = ((y * kw + x) * ci + i) * co + o;
          out[depthwise ? ((i * co + o) * kh + y) * kw + x : ((o * ci + i) * kh + y) * kw + x] = data[src]!;
        }
  return { data: out, dims: depthwise ? [ci * co, 1, kh, kw] : [co, ci, kh, kw] };
}

/** ONNX's pads ([top, left, bottom, right]) or auto_pad for a tlr padding. */
function padAttrs(p: Padding): Record<string, number[] | string> {
  if (p === 'same') return { auto_pad: 'SAME_UPPER' };
  const [t, b, l, r] = p === 'valid' ? [0, 0, 0, 0] : p;
  return { pads: [t, l, b, r] };
}

/** Output length along one axis, as tfjs computes it. */
function outLen(size: number, k: number, s: number, p: Padding, axis: 0 | 1): number {
  if (p === 'same') return Math.ceil(size / s);
  const [a, b] = p === 'valid' ? [0, 0] : axis === 0 ? [p[0], p[1]] : [p[2], p[3]];
  return Math.floor((size + a + b - k) / s) + 1;
}

/** Applies an activation tf.layers knows by name. */
export function activate(g: OnnxGraph, x: string, a: Activation): string {
  switch (a) {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x]);
    case 'relu6':
      return g.node('Clip', [x, g.float('zero', new Float32Array([0]), []), g.float('six', new Float32Array([6]), [])]);
    case 'sigmoid':
      return g.node('Sigmoid', [x]);
    case 'tanh':
      return g.node('Tanh', [x]);
    case 'elu':
      return g.node('Elu', [x], { alpha: 1.0 });
    case 'selu':
      return g.node('Selu', [x]);
    case 'softmax':
      return g.node('Softmax', [x], { axis: -1 });
    case 'swish':
      return g.node('Mul', [x, g.node('Sigmoid', [x])]);
    case 'gelu': {
      // tf.layers' gelu is the exact one: x * (1 + erf(x / sqrt 2)) / 2.
      const erf = g.node('Erf', [g.node('Div', [x, g.float('sqrt2', new Float32Array([Math.SQRT2]), [])])]);
      const one = g.node('Add', [erf, g.float('one', new Float32Array([1]), [])]);
      return g.node('Mul', [g.node('Mul', [x, one]), g.float('half', new Float32Array([0.5]), [])]);
    }
    default:
      throw new OnnxExportError(
        `the activation ${a} has no ONNX form in tlr; use one of linear, relu, relu6, sigmoid, tanh, elu, selu, ` +
          `softmax, swish, gelu`,
      );
  }
}

const w = (c: Ctx, at: { at: number }) => ({ data: c.program.weights[at.at]!, shape: c.program.shapes[at.at]! });

/** PyTorch's adaptive average pool to n x n: bin i covers [floor(i*H/n), ceil((i+1)*H/n)). */
function adaptive(c: Ctx, x: string, [h, wd, ch]: readonly number[], n: number): Out {
  const g = c.g;
  const bins = (len: number) =>
    Array.from({ length: n }, (_, i) => [Math.floor((i * len) / n), Math.ceil(((i + 1) * len) / n)] as const);
  if (h! % n === 0 && wd! % n === 0)
    return {
      name: g.node('AveragePool', [x], { kernel_shape: [h! / n, wd! / n], strides: [h! / n, wd! / n] }),
      shape: [n, n, ch!],
    };
  const rows = bins(h!).map(([a, b]) => {
    const band = g.node('Slice', [x, g.int64('s', [a]), g.int64('e', [b]), g.int64('ax', [2])]);
    const cells = bins(wd!).map(([p, q]) =>
      g.node('ReduceMean', [g.node('Slice', [band, g.int64('s', [p]), g.int64('e', [q]), g.int64('ax', [3])])], {
        axes: [2, 3],
        keepdims: 1,
      }),
    );
    return g.node('Concat', cells, { axis: 3 });
  });
  return { name: g.node('Concat', rows, { axis: 2 }), shape: [n, n, ch!] };
}

const STEPS: { readonly [K in Step['kind']]: (c: Ctx, s: StepOf<K>) => Out } = {
  conv: (c, s) => {
    const x = c.shape(s.inputs[0]!),
      k = w(c, s.kernel);
    const kernel = convKernel(k.data, k.shape, s.depthwise);
    const inputs = [
      c.value(s.inputs[0]!),
      c.g.float('kernel', kernel.data, kernel.dims),
      ...(s.bias ? [c.g.float('bias', w(c, s.bias).data, [kernel.dims[0]!])] : []),
    ];
    const y = c.g.node('Conv', inputs, {
      kernel_shape: [k.shape[0]!, k.shape[1]!],
      strides: [...s.strides],
      group: s.depthwise ? x[2]! : 1,
      ...padAttrs(s.pad),
    });
    const shape = [
      outLen(x[0]!, k.shape[0]!, s.strides[0], s.pad, 0),
      outLen(x[1]!, k.shape[1]!, s.strides[1], s.pad, 1),
      kernel.dims[0]!,
    ];
    return { name: activate(c.g, y, s.activation), shape };
  },
  affine: (c, s) => {
    const x = c.shape(s.inputs[0]!),
      ch = x[x.length - 1]!,
      dims = x.length === 3 ? [ch, 1, 1] : [ch];
    const y = c.g.node('Mul', [c.value(s.inputs[0]!), c.g.float('scale', w(c, s.scale).data, dims)]);
    return { name: c.g.node('Add', [y, c.g.float('shift', w(c, s.shift).data, dims)]), shape: x };
  },
  activation: (c, s) => ({ name: activate(c.g, c.value(s.inputs[0]!), s.activation), shape: c.shape(s.inputs[0]!) }),
  pad: (c, s) => {
    const [h, wd, ch] = c.shape(s.inputs[0]!),
      [t, b, l, r] = s.pad;
    return {
      name: c.g.node('Pad', [c.value(s.inputs[0]!), c.g.int64('pads', [0, 0, t, l, 0, 0, b, r])], { mode: 'constant' }),
      shape: [h! + t + b, wd! + l + r, ch!],
    };
  },
  maxpool: (c, s) => pool(c, s, 'MaxPool'),
  avgpool: (c, s) => pool(c, s, 'AveragePool'),
  adaptiveavg: (c, s) => adaptive(c, c.value(s.inputs[0]!), c.shape(s.inputs[0]!), s.size),
  gap: (c, s) => ({
    name: c.g.node('Flatten', [c.g.node('GlobalAveragePool', [c.value(s.inputs[0]!)])], { axis: 1 }),
    shape: [c.shape(s.inputs[0]!)[2]!],
  }),
  flatten: (c, s) => {
    // NCHW flattens channels first, as `chw` asks; `hwc` goes back to NHWC first.
    const x = c.value(s.inputs[0]!),
      shape = c.shape(s.inputs[0]!);
    const src = s.chw || shape.length < 3 ? x : c.g.node('Transpose', [x], { perm: [0, 2, 3, 1] });
    return { name: c.g.node('Flatten', [src], { axis: 1 }), shape: [shape.reduce((a, b) => a * b, 1)] };
  },
  dense: (c, s) => {
    const k = w(c, s.kernel);
    const inputs = [
      c.value(s.inputs[0]!),
      c.g.float('kernel', k.data, k.shape),
      ...(s.bias ? [c.g.float('bias', w(c, s.bias).data, [k.shape[1]!])] : []),
    ];
    return { name: activate(c.g, c.g.node('Gemm', inputs), s.activation), shape: [k.shape[1]!] };
  },
  add: (c, s) => ({
    name: c.g.node(
      s.inputs.length === 2 ? 'Add' : 'Sum',
      s.inputs.map((i) => c.value(i)),
    ),
    shape: c.shape(s.inputs[0]!),
  }),
  concat: (c, s) => {
    const shapes = s.inputs.map((i) => c.shape(i)),
      first = shapes[0]!;
    const channels = shapes.reduce((t, x) => t + x[x.length - 1]!, 0);
    return {
      name: c.g.node(
        'Concat',
        s.inputs.map((i) => c.value(i)),
        { axis: 1 },
      ),
      shape: [...first.slice(0, -1), channels],
    };
  },
};

function pool(c: Ctx, s: StepOf<'maxpool' | 'avgpool'>, op: 'MaxPool' | 'AveragePool'): Out {
  const x = c.shape(s.inputs[0]!);
  const shape = [
    outLen(x[0]!, s.pool[0], s.strides[0], s.pad, 0),
    outLen(x[1]!, s.pool[1], s.strides[1], s.pad, 1),
    x[2]!,
  ];
  return {
    name: c.g.node(op, [c.value(s.inputs[0]!)], {
      kernel_shape: [...s.pool],
      strides: [...s.strides],
      ...padAttrs(s.pad),
    }),
    shape,
  };
}

export interface OnnxOptions {
  /** Appends a softmax to the output (a model whose head outputs logits then gives probabilities). */
  readonly softmax?: boolean;
  /** Appends a sigmoid instead (a multi-label model: one probability per label). */
  readonly sigmoid?: boolean;
  /** Key/value pairs stored in the model (labels, preprocessing). */
  readonly metadata?: Record<string, string>;
}

/**
 * The program as an ONNX model (protobuf bytes): input `input` [batch, H, W, C] float32 (NHWC,
 * preprocessed), output `output`.
 *
 * @example const bytes = toOnnx(compile(graph, 'avgpool', model)); // then ort.InferenceSession.create(bytes)
 */
export function toOnnx(program: Program, opts: OnnxOptions = {}): Uint8Array {
  const g = new OnnxGraph();
  const input = g.name('input_nhwc');
  const values: string[] = [],
    shapes: (readonly number[])[] = [];
  const nchw = g.node('Transpose', [input], { perm: [0, 3, 1, 2] }, 'input_nchw');
  const ctx: Ctx = {
    g,
    program,
    value: (i) => (i < 0 ? nchw : values[i]!),
    shape: (i) => (i < 0 ? program.inputShape : shapes[i]!),
  };
  program.steps.forEach((s) => {
    const out = (STEPS[s.kind] as (c: Ctx, s: Step) => Out)(ctx, s);
    values.push(out.name);
    shapes.push(out.shape);
  });
  let output = values[values.length - 1]!,
    shape = shapes[shapes.length - 1]!;
  if (shape.length === 3) output = g.node('Transpose', [output], { perm: [0, 2, 3, 1] }, 'output_nhwc');
  if (opts.sigmoid) output = g.node('Sigmoid', [output], {});
  else if (opts.softmax) output = g.node('Softmax', [output], { axis: -1 });
  return g.encode(
    { input, output, inputShape: program.inputShape, outputShape: shape },
    opts.metadata ?? {},
    TLR_VERSION,
  );
}
