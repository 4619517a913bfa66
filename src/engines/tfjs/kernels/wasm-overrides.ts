import { tf } from '../tf.js';
import { asTensor, output, type Info, type KernelArgs } from './handoff.js';
import { REPLACEMENTS } from './wasm-grads.js';

// Kernels the wasm backend has but runs on slow paths, measured (bench/matmul.ts,
// bench/finetune-step.ts):
// - a matrix product with an operand marked transposed takes a scalar path 6 to 19 times slower
//   than XNNPACK's plain one: every dense layer's gradients and the filter gradient ask for it.
//   The wrapper transposes the operand explicitly and multiplies plainly;
// - Tile, which BatchNorm's gradient uses to broadcast, copies one element at a time (11 ms for
//   131,072 floats): here it is a broadcasting multiply by ones, which wasm runs in under 1 ms;
// - Conv2DBackpropInput is a scalar loop: see wasm-grads.ts for the convolution that replaces it.

const BACKEND = 'wasm';
const ORIGINALS = new Map<string, tf.KernelConfig>();

function swapLast(x: Info, backend: tf.KernelBackend): Info {
  const rank = x.shape.length;
  const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  return tf.getKernel('Transpose', BACKEND)!.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as Info;
}

const matMul =
  (original: tf.KernelFunc) =>
  (args: KernelArgs): Info | Info[] => {
    const { transposeA, transposeB } = args.attrs;
    if (!transposeA && !transposeB) return original(args as never) as Info;
    const a = transposeA ? swapLast(args.inputs['a']!, args.backend) : args.inputs['a']!;
    const b = transposeB ? swapLast(args.inputs['b']!, args.backend) : args.inputs['b']!;
    try {
      return original({
        ...args,
        inputs: { ...args.inputs, a, b },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      } as never) as Info;
    } finally {
      if (a !== args.inputs['a']) args.backend.disposeData(a.dataId);
      if (b !== args.inputs['b']) args.backend.disposeData(b.dataId);
    }
  };

const tile =
  (original: tf.KernelFunc) =>
  (args: KernelArgs): Info | Info[] => {
    const x = args.inputs['x']!;
    if (x.dtype !== 'float32') return original(args as never) as Info;
    const reps = args.attrs['reps'] as number[];
    // Each repeated axis of length d becomes [k, d]: x (as [1, d]) times ones [k, d]. Adjacent axes
    // of the same kind merge, since wasm broadcasts up to rank 4 only.
    const axes: [inner: number, outer: number][] = [];
    const repeats = ([i, o]: [number, number]) => i !== o;
    const push = (i: number, o: number) => {
      const last = axes[axes.length - 1];
      if (last && repeats(last) === repeats([i, o])) axes[axes.length - 1] = [last[0] * i, last[1] * o];
      else axes.push([i, o]);
    };
    x.shape.forEach((d, i) => {
      const k = reps[i]!;
      if (k > 1) push(1, k);
      if (d > 1 || k === 1) push(d, d);
    });
    if (axes.length > 4) return original(args as never) as Info;
    const r = tf.tidy(() =>
      tf
        .mul(asTensor(args.backend, x).reshape(axes.map((a) => a[0])), tf.ones(axes.map((a) => a[1])))
        .reshape(x.shape.map((d, i) => d * reps[i]!)),
    );
    return output(args.backend, r);
  };

const replaced = (f: (a: KernelArgs) => Info) => () => f;

const WRAPPERS: Record<string, (original: tf.KernelFunc) => (a: KernelArgs) => Info | Info[]> = {
  BatchMatMul: matMul,
  _FusedMatMul: matMul,
  Tile: tile,
  ...Object.fromEntries(Object.entries(REPLACEMENTS).map(([k, f]) => [k, replaced(f)])),
};

/** Puts tlr's versions of these kernels in place of wasm's; idempotent. */
export function registerWasmOverrides(): void {
  for (const [kernelName, wrap] of Object.entries(WRAPPERS)) {
    const k = tf.getKernel(kernelName, BACKEND);
    if (!k || ORIGINALS.has(kernelName)) continue;
    ORIGINALS.set(kernelName, k);
    tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ ...k, kernelFunc: wrap(k.kernelFunc) as unknown as tf.KernelFunc });
  }
}

/** Puts wasm's own kernels back (benchmarks measure the difference). */
export function unregisterWasmOverrides(): void {
  for (const [kernelName, k] of ORIGINALS) {
    tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel(k);
  }
  ORIGINALS.clear();
}
