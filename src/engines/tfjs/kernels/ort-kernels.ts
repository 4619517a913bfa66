import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { tf } from '../tf.js';
import { OnnxGraph } from '../onnx/graph.js';
import { activate } from '../onnx/to-onnx.js';
import { loadOrt, ortThreads } from '../onnx/runtime.js';
import type { Info, KernelArgs } from './handoff.js';
import { UsageError } from '../../../errors.js';

// Kernels of the wasm backend run by ONNX Runtime's native CPU kernels instead.
// - Convolutions, forward and both gradients: on one core of this project's 2-core machine
//   (bench/split-kernels.ts), a ResNet-18 block-4 convolution runs at about 20 GFLOP/s in
//   XNNPACK's wasm kernels and at 55-70 GFLOP/s in ONNX Runtime (MLAS, with the CPU's AVX2/AVX-512);
//   convolutions are most of a training step.
// - Sum and Mean over leading axes (BatchNorm's statistics and gradients, a bias's gradient):
//   wasm transposes the input one element at a time first (4.4 ms for [32, 7, 7, 512]); ONNX
//   Runtime's ReduceSum takes 0.1 ms.
// Each kernel is a small fixed-shape ONNX model (one per kind, shape and geometry), built on first
// use and kept. Inputs are read in place from the wasm heap and the output is written straight
// into a tensor allocated there.
//
// tfjs kernels are synchronous. onnxruntime-node's public `run` is a promise around a synchronous
// native call (deferred by a setImmediate); the binding under it, onnxruntime-node/dist/binding
// ("a simple synchronized inference session object wrap"), runs at once. tlr uses that binding,
// pinned to the version in package.json; where it cannot load, wasm's kernels stay (TLR_CONV=wasm
// asks for them).

const BACKEND = 'wasm';
const require = createRequire(import.meta.url);

interface OrtTensor {
  readonly data: unknown;
}
interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(
    feeds: Record<string, OrtTensor>,
    fetches: Record<string, OrtTensor | null>,
    options: object,
  ): Record<string, OrtTensor>;
  dispose(): void;
}
interface Native {
  Session: new () => NativeSession;
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  version: string;
}

let native: Native | { error: string } | null = null;

/** onnxruntime-node's synchronous binding, or why it cannot be used. */
export function ortNative(): Native | { error: string } {
  if (native) return native;
  const loaded = loadOrt();
  if ('error' in loaded) {
    native = { error: loaded.error };
    return native;
  }
  try {
    const b = require('onnxruntime-node/dist/binding') as {
      binding: { InferenceSession: Native['Session'] };
      initOrt: () => void;
    };
    b.initOrt();
    native = {
      Session: b.binding.InferenceSession,
      Tensor: loaded.ort.Tensor as unknown as Native['Tensor'],
      version: (require('onnxruntime-node/package.json') as { version: string }).version,
    };
  } catch (e) {
    native = {
      error: `ONNX Runtime's synchronous binding did not load: ${String((e as Error).message).split('\n')[0]}`,
    };
  }
  return native;
}

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

function geometryOf(
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

const rowsOf = (c: Geometry) => c.out[0] * c.out[1] * c.out[2];

/** The forward convolution, with its bias and activation when fused. */
function forwardModel(c: Geometry, bias: boolean, activation: string): Uint8Array {
  const g = new OnnxGraph();
  let y = g.node('Conv', [toNchw(g, 'x'), onnxFilter(g, c, 'filter'), ...(bias ? ['bias'] : [])], convAttrs(c));
  y = toNhwc(g, activate(g, y, activation));
  return g.encodeFixed(
    { x: c.x, filter: c.filter, ...(bias ? { bias: [c.out[3]] } : {}) },
    { y: { value: y, shape: c.out } },
  );
}

/** ConvTranspose's output_padding that makes its output the input's size (ONNX: below the stride). */
function outputPadding(c: Geometry): [number, number] {
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
function inputGradientModel(c: Geometry): Uint8Array {
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
function filterGradientModel(c: Geometry): Uint8Array {
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
function reductionModel(
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

let threads = 0;

/** Intra-op threads of the kernels' sessions: ONNX Runtime's (TLR_ORT_THREADS, else one per core) unless set. */
export function convThreads(): number {
  return threads || ortThreads();
}

/** Sets the kernels' intra-op threads (bench/split-kernels.ts compares one core with all); 0 restores the default. */
export function setConvThreads(n: number): void {
  threads = n;
}

const sessions = new Map<string, NativeSession | null>();
let calls = 0,
  refused = 0;

/** How many kernel calls ONNX Runtime has run in this thread (tests check that a path was taken). */
export const ortKernelCalls = (): number => calls;

/**
 * The session for `key`, built on first use; null when ONNX Runtime refused the model (then the
 * kernel it replaces runs instead, and Node prints one warning saying so: slower, not wrong).
 */
function sessionFor(key: string, build: () => Uint8Array): NativeSession | null {
  const k = `${convThreads()} ${key}`;
  let s = sessions.get(k);
  if (s === undefined) {
    const n = ortNative() as Native;
    try {
      const bytes = build();
      s = new n.Session();
      // No arena: a kernel's buffers are freed when it returns rather than kept for the next call,
      // so the process does not hold each shape's workspace for the whole run.
      s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
        intraOpNumThreads: convThreads(),
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionProviders: ['cpu'],
        enableCpuMemArena: false,
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
    } catch (e) {
      s = null;
      if (!refused++)
        process.emitWarning(
          `ONNX Runtime refused tlr's kernel ${key}: ${String((e as Error).message).split('\n')[0]}; ` +
            `TensorFlow.js runs it instead (slower)`,
        );
    }
    sessions.set(k, s);
  }
  return s;
}

interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: readonly number[], dtype: 'float32'): Info;
  typedArrayFromHeap(t: Info): Float32Array;
}

/**
 * Runs kernel `key` (its model from `build`) on tensors in the wasm heap, writing its one output
 * into a new wasm tensor; the replaced kernel runs instead when ONNX Runtime refused the model.
 */
function runOn(
  args: KernelArgs,
  original: tf.KernelFunc,
  key: string,
  build: () => Uint8Array,
  inputs: Record<string, Info>,
  output: string,
  shape: readonly number[],
): Info {
  const session = sessionFor(key, build);
  if (!session) return original(args as never) as Info;
  const b = args.backend as WasmBackend;
  const n = ortNative() as Native;
  // Allocate first: allocating may grow the wasm memory, which detaches views taken before.
  const out = b.makeOutput([...shape], 'float32');
  const view = (t: Info) => new n.Tensor('float32', b.typedArrayFromHeap(t), t.shape);
  const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, view(t)]));
  session.run(feeds, { [output]: view(out) }, {});
  calls++;
  return out;
}

// The activations ONNX's forms cover (tfjs fuses these names into a convolution).
const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'sigmoid', 'elu']);

type Kernel = (args: KernelArgs, original: tf.KernelFunc) => Info;

const f32 = (...ts: (Info | undefined)[]) => ts.every((t) => !t || t.dtype === 'float32');
const nhwc = (attrs: KernelArgs['attrs']) => (attrs['dataFormat'] ?? 'NHWC') === 'NHWC';

const forward =
  (depthwise: boolean): Kernel =>
  (args, original) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, Info | undefined>;
    const activation = (args.attrs['activation'] as string | undefined) ?? 'linear';
    const c = geometryOf(x!.shape, filter!.shape, args.attrs, depthwise);
    const plainBias = !bias || (bias.shape.length === 1 && bias.shape[0] === c.out[3]);
    if (
      preluActivationWeights ||
      !ACTIVATIONS.has(activation) ||
      !plainBias ||
      !nhwc(args.attrs) ||
      !f32(x, filter, bias)
    )
      return original(args as never) as Info;
    const key = JSON.stringify(['forward', c, !!bias, activation]);
    return runOn(
      args,
      original,
      key,
      () => forwardModel(c, !!bias, activation),
      { x: x!, filter: filter!, ...(bias ? { bias } : {}) },
      'y',
      c.out,
    );
  };

const inputGradient =
  (depthwise: boolean): Kernel =>
  (args, original) => {
    const { dy, filter } = args.inputs as Record<string, Info>;
    const c = geometryOf(args.attrs['inputShape'] as number[], filter!.shape, args.attrs, depthwise);
    const [ph, pw] = outputPadding(c);
    if (!nhwc(args.attrs) || !f32(dy, filter) || ph < 0 || pw < 0 || ph >= c.strides[0] || pw >= c.strides[1])
      return original(args as never) as Info;
    const key = JSON.stringify(['input', c]);
    return runOn(args, original, key, () => inputGradientModel(c), { dy: dy!, filter: filter! }, 'dx', c.x);
  };

const filterGradient =
  (depthwise: boolean): Kernel =>
  (args, original) => {
    const { x, dy } = args.inputs as Record<string, Info>;
    const c = geometryOf(x!.shape, args.attrs['filterShape'] as number[], args.attrs, depthwise);
    if (!nhwc(args.attrs) || !f32(x, dy)) return original(args as never) as Info;
    const key = JSON.stringify(['filter', c]);
    return runOn(args, original, key, () => filterGradientModel(c), { x: x!, dy: dy! }, 'dw', c.filter);
  };

/** Sum or Mean of a float32 tensor over leading axes (what wasm transposes for); anything else goes to wasm. */
const reduction =
  (op: 'ReduceSum' | 'ReduceMean'): Kernel =>
  (args, original) => {
    const x = args.inputs['x']!;
    const axes = tf.util.parseAxisParam(args.attrs['axis'] as number | number[], x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return original(args as never) as Info;
    const keep = !!args.attrs['keepDims'];
    const out = keep ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const key = JSON.stringify([op, x.shape, axes.length, keep]);
    return runOn(args, original, key, () => reductionModel(op, x.shape, axes.length, keep), { x }, 'y', out);
  };

/**
 * The kernels run on ONNX Runtime, by tfjs kernel name; each falls back to the kernel it replaces for what it does not
 * cover.
 */
export const ORT_KERNELS: Record<string, Kernel> = {
  Conv2D: forward(false),
  FusedConv2D: forward(false),
  Conv2DBackpropInput: inputGradient(false),
  Conv2DBackpropFilter: filterGradient(false),
  DepthwiseConv2dNative: forward(true),
  FusedDepthwiseConv2D: forward(true),
  DepthwiseConv2dNativeBackpropInput: inputGradient(true),
  DepthwiseConv2dNativeBackpropFilter: filterGradient(true),
  Sum: reduction('ReduceSum'),
  Mean: reduction('ReduceMean'),
};

const REPLACED = new Map<string, tf.KernelConfig>();

/**
 * Where convolutions run: 'ort' (these kernels) or 'wasm'. TLR_CONV says; without it, ONNX Runtime
 * unless TLR_INFERENCE=tfjs asks for TensorFlow.js throughout (then passes on this thread compute
 * what worker threads compute, bit for bit). A UsageError for any other TLR_CONV.
 */
export function convEngineWanted(env: NodeJS.ProcessEnv = process.env): 'ort' | 'wasm' {
  const set = env['TLR_CONV'];
  if (set && set !== 'ort' && set !== 'wasm') throw new UsageError(`TLR_CONV must be ort or wasm, not '${set}'`);
  if (set) return set as 'ort' | 'wasm';
  return env['TLR_INFERENCE'] === 'tfjs' ? 'wasm' : 'ort';
}

/** Why convolutions run where `env` puts them, when that is wasm by choice. */
export function convChoice(env: NodeJS.ProcessEnv = process.env): string {
  return env['TLR_CONV'] === 'wasm'
    ? 'as TLR_CONV=wasm asks'
    : 'as TLR_INFERENCE=tfjs asks (TLR_CONV=ort puts them on ONNX Runtime)';
}

/**
 * Puts these kernels in place or takes them away, as `env` asks (a UsageError for a bad TLR_CONV),
 * on the main thread only: worker threads (TensorFlow.js inference programs, batch shards with
 * TLR_CONV=wasm) keep wasm's kernels, each on its one core. Returns why ONNX Runtime is not used
 * when it was asked for and cannot be, else null.
 */
export function useConvEngine(env: NodeJS.ProcessEnv = process.env): string | null {
  const want = convEngineWanted(env);
  if (!isMainThread) return null;
  if (want === 'wasm') {
    unregisterOrtKernels();
    return null;
  }
  return registerOrtKernels();
}

/**
 * Puts the ONNX Runtime kernels in front of the wasm backend's (wasm's own, or tlr's: register
 * those first). Returns why not when ONNX Runtime cannot be used.
 */
export function registerOrtKernels(): string | null {
  const n = ortNative();
  if ('error' in n) return n.error;
  for (const [name, kernel] of Object.entries(ORT_KERNELS)) {
    const k = tf.getKernel(name, BACKEND);
    if (!k || REPLACED.has(name)) continue;
    REPLACED.set(name, k);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ ...k, kernelFunc: ((a: KernelArgs) => kernel(a, k.kernelFunc)) as unknown as tf.KernelFunc });
  }
  return null;
}

/** Puts back the kernels these replaced (tests and benchmarks compare the two). */
export function unregisterOrtKernels(): void {
  for (const [name, k] of REPLACED) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(k);
  }
  REPLACED.clear();
}

/** Whether the ONNX Runtime kernels are in place (in this thread). */
export const ortKernelsOn = (): boolean => REPLACED.size > 0;
