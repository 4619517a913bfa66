import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { tf } from '../tf.js';
import {
  filterGradientModel,
  forwardModel,
  geometryOf,
  inputGradientModel,
  outputPadding,
  reductionModel,
} from './ort-models.js';
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
