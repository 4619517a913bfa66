import { tf } from '../tf.js';

// The wasm backend multiplies matrices fast through XNNPACK only when neither operand is marked
// transposed; with transposeA or transposeB it takes a scalar path 6 to 20 times slower. Gradients
// of every dense layer and tlr's convolution filter gradient ask for exactly those products, so
// these wrappers transpose the operand explicitly first and multiply plainly.

type Info = tf.TensorInfo;
interface Args { inputs: Record<string, Info | undefined>; backend: tf.KernelBackend; attrs: Record<string, unknown> }

const BACKEND = 'wasm';
const WRAPPED = new WeakSet<object>();
const ORIGINALS = new Map<string, tf.KernelConfig>();

function swapLast(x: Info, backend: tf.KernelBackend): Info {
  const rank = x.shape.length;
  const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  const transpose = tf.getKernel('Transpose', BACKEND)!.kernelFunc;
  return transpose({ inputs: { x }, backend, attrs: { perm } }) as Info;
}

function wrap(original: tf.KernelFunc): tf.KernelFunc {
  const f = ((args: Args) => {
    const { transposeA, transposeB } = args.attrs;
    if (!transposeA && !transposeB) return original(args as never);
    const a = transposeA ? swapLast(args.inputs.a!, args.backend) : args.inputs.a!;
    const b = transposeB ? swapLast(args.inputs.b!, args.backend) : args.inputs.b!;
    try {
      return original({ ...args, inputs: { ...args.inputs, a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false } } as never);
    } finally {
      if (a !== args.inputs.a) args.backend.disposeData(a.dataId);
      if (b !== args.inputs.b) args.backend.disposeData(b.dataId);
    }
  }) as unknown as tf.KernelFunc;
  WRAPPED.add(f);
  return f;
}

/** Replaces wasm's BatchMatMul and _FusedMatMul with the wrappers; idempotent. */
export function registerWasmMatMul(): void {
  for (const kernelName of ['BatchMatMul', '_FusedMatMul']) {
    const k = tf.getKernel(kernelName, BACKEND);
    if (!k || WRAPPED.has(k.kernelFunc)) continue;
    ORIGINALS.set(kernelName, k);
    tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ ...k, kernelFunc: wrap(k.kernelFunc) });
  }
}

/** Puts wasm's own kernels back (benchmarks measure the difference). */
export function unregisterWasmMatMul(): void {
  for (const [kernelName, k] of ORIGINALS) {
    tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel(k);
  }
  ORIGINALS.clear();
}
