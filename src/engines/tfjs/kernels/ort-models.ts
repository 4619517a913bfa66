import { tf } from '../tf.js';
import { OnnxGraph } from '../onnx/graph.js';
import { activate } from '../onnx/to-onnx.js';
import type { KernelArgs } from './handoff.js';

// The small fixed-shape ONNX models the wasm backend's kernels run on ONNX Runtime (ort-kernels.ts): a convolution
// forward (with its bias and activation), its input and filter gradients, and a reduction over leading axes. Each is
// built from the kernel's geometry, once per kind and shape.

/** One kernel's convolution: input NHWC, filter HWIO (or [kh, kw, C, multiplier] when depthwise). */
export interface Geometry {
  readonly x: readonly [number, number, number, number];
  readonly filter: readonly [number, number, number, number];
  readonly depthwise: boolean;
  readonly out: readonly [number, number, number, number];
  /** [top, left, bottom, right], as ONNX orders them. */
  readonly pads: readonly [number, number, number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
}

export function geometryOf(
  x: readonly number[],
  filter: readonly number[],
  attrs: KernelArgs['attrs'],
  depthwise: boolean,
): Geometry {
  const i = tf.backend_util.computeConv2DInfo(
    x as [number, number, number, number],
    filter as [number, number, number, number],
    attrs['strides'] as [number, number],
    (attrs['dilations'] as [number, number] | undefined) ?? 1,
    attrs['pad'] as 'same',
    attrs['dimRoundingMode'] as 'round' | undefined,
    depthwise,
  );
  const p = i.padInfo;
  return {
    x: x as Geometry['x'],
    filter: filter as Geometry['filter'],
    depthwise,
    out: [i.batchSize, i.outHeight, i.outWidth, i.outChannels],
    pads: [p.top, p.left, p.bottom, p.right],
    strides: [i.strideHeight, i.strideWidth],
    dilations: [i.dilationHeight, i.dilationWidth],
  };
}

/** The filter as ONNX's Conv wants it: OIHW, or [C*m, 1, kh, kw] for a depthwise one (ConvTranspose takes the same). */
function onnxFilter(g: OnnxGraph, c: Geometry, name: string): string {
  const [kh, kw, ci, co] = c.filter;
  if (c.depthwise)
    return g.node('Reshape', [
      g.node('Transpose', [name], { perm: [2, 3, 0, 1] }),
      g.int64('shape', [ci * co, 1, kh, kw]),
    ]);
  // Conv wants [out, in, kh, kw]; ConvTranspose [its input (the forward output), its output, kh, kw]: the same array.
  return g.node('Transpose', [name], { perm: [3, 2, 0, 1] });
}

const convAttrs = (c: Geometry) => ({
  kernel_shape: [c.filter[0], c.filter[1]],
  pads: [...c.pads],
  strides: [...c.strides],
  dilations: [...c.dilations],
  group: c.depthwise ? c.x[3] : 1,
});
const toNchw = (g: OnnxGraph, v: string) => g.node('Transpose', [v], { perm: [0, 3, 1, 2] });
const toNhwc = (g: OnnxGraph, v: string) => g.node('Transpose', [v], { perm: [0, 2, 3, 1] });

/** The padded input's strided slice under each tap (a, b), in HWIO order: [N, oh, ow, C] each. */
function taps(g: OnnxGraph, x: string, c: Geometry): string[] {
  const [t, l, b, r] = c.pads,
    [, oh, ow] = c.out,
    [kh, kw] = c.filter;
  const xp = t || l || b || r ? g.node('Pad', [x, g.int64('pads', [0, t, l, 0, 0, b, r, 0])]) : x;
  const out: string[] = [];
  for (let a = 0; a < kh; a++)
    for (let bb = 0; bb < kw; bb++) {
      const y0 = a * c.dilations[0],
        x0 = bb * c.dilations[1];
      out.push(
        g.node('Slice', [
          xp,
          g.int64('starts', [y0, x0]),
          g.int64('ends', [y0 + (oh - 1) * c.strides[0] + 1, x0 + (ow - 1) * c.strides[1] + 1]),
          g.int64('axes', [1, 2]),
          g.int64('steps', [...c.strides]),
        ]),
      );
    }
  return out;
}

export const rowsOf = (c: Geometry) => c.out[0] * c.out[1] * c.out[2];

/** The forward convolution, with its bias and activation when fused. */
export function forwardModel(c: Geometry, bias: boolean, activation: string): Uint8Array {
  const g = new OnnxGraph();
  let y = g.node('Conv', [toNchw(g, 'x'), onnxFilter(g, c, 'filter'), ...(bias ? ['bias'] : [])], convAttrs(c));
  y = toNhwc(g, activate(g, y, activation));
  return g.encodeFixed(
    { x: c.x, filter: c.filter, ...(bias ? { bias: [c.out[3]] } : {}) },
    { y: { value: y, shape: c.out } },
  );
}

/** ConvTranspose's output_padding that makes its output the input's size (ONNX: below the stride). */
export function outputPadding(c: Geometry): [number, number] {
  const along = (a: 0 | 1) =>
    c.x[a + 1]! -
    (c.strides[a] * (c.out[a + 1]! - 1) + (c.filter[a] - 1) * c.dilations[a] + 1 - c.pads[a] - c.pads[a + 2]!);
  return [along(0), along(1)];
}

/**
 * The input gradient: a transposed convolution of the output gradient. Tried and dropped: at
 * stride 1, one GEMM of dY and the filter put back tap by tap (col2im), and the forward pass as a
 * GEMM of the input's patches (im2col). In one run they took 45 ms where ConvTranspose takes 73
 * (and Conv 66), in the next 176 and 236 ms: without an arena each large buffer of those graphs
 * is fresh memory, and ONNX Runtime's Pad, Slice and Concat copies run on one thread.
 */
export function inputGradientModel(c: Geometry): Uint8Array {
  const g = new OnnxGraph();
  const dx = g.node('ConvTranspose', [toNchw(g, 'dy'), onnxFilter(g, c, 'filter')], {
    ...convAttrs(c),
    output_padding: outputPadding(c),
  });
  return g.encodeFixed({ dy: c.out, filter: c.filter }, { dx: { value: toNhwc(g, dx), shape: c.x } });
}

/**
 * The filter gradient, one tap at a time: dW[a, b] = sum over n, i, j of xp[n, i*s + a*d, j*s + b*d, :]
 * (outer) dy[n, i, j, :]: a strided slice of the padded input, as rows, times the output gradient
 * (one GEMM per tap, [C, N*H*W] x [N*H*W, K]); for a depthwise filter, a product and a sum per
 * channel. A slice at a time keeps the extra memory at one input's size, where all taps at once
 * (im2col) would take kh*kw of them.
 */
export function filterGradientModel(c: Geometry): Uint8Array {
  const g = new OnnxGraph();
  const [, , , ci] = c.x,
    [, , , co] = c.out,
    mult = c.filter[3],
    rows = rowsOf(c);
  const dy = c.depthwise
    ? g.node('Reshape', ['dy', g.int64('shape', [rows, ci, mult])])
    : g.node('Reshape', ['dy', g.int64('shape', [rows, co])]);
  const perTap = taps(g, 'x', c).map((tap) =>
    c.depthwise
      ? g.node(
          'ReduceSum',
          [g.node('Mul', [g.node('Reshape', [tap, g.int64('shape', [rows, ci, 1])]), dy]), g.int64('axes', [0])],
          { keepdims: 0 },
        )
      : g.node('Gemm', [g.node('Reshape', [tap, g.int64('shape', [rows, ci])]), dy], { transA: 1 }),
  );
  const all = perTap.length === 1 ? perTap[0]! : g.node('Concat', perTap, { axis: 0 });
  return g.encodeFixed(
    { x: c.x, dy: c.out },
    { dw: { value: g.node('Reshape', [all, g.int64('shape', [...c.filter])]), shape: c.filter } },
  );
}

/** Sum or Mean over the leading `axes` of `shape`. */
export function reductionModel(
  op: 'ReduceSum' | 'ReduceMean',
  shape: readonly number[],
  axes: number,
  keepDims: boolean,
): Uint8Array {
  const g = new OnnxGraph();
  const leading = [...Array(axes).keys()];
  // Opset 17: ReduceSum takes its axes as an input, ReduceMean still as an attribute.
  const y =
    op === 'ReduceSum'
      ? g.node(op, ['x', g.int64('axes', leading)], { keepdims: keepDims ? 1 : 0 })
      : g.node(op, ['x'], { axes: leading, keepdims: keepDims ? 1 : 0 });
  const out = keepDims ? shape.map((d, i) => (i < axes ? 1 : d)) : shape.slice(axes);
  return g.encodeFixed({ x: shape }, { y: { value: y, shape: out } });
}
