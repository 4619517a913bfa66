import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src/runtime/tf.js';
import { registerWasmGradients } from '../../src/runtime/kernels/wasm-grads.js';
import { rng } from '../helpers/random.js';

// The composed wasm gradient kernels against the cpu backend's, through tf.grads exactly as a
// training step reaches them, on random shapes, kernel sizes, strides, paddings and multipliers.

type Case = { n: number; h: number; w: number; c: number; k: number; s: number; pad: 'same' | 'valid' | number; co: number; mult: number };

function cases(seed: number, count: number): Case[] {
  const r = rng(seed), pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: count }, () => {
    const k = pick([1, 3, 5]), h = k + Math.floor(r() * 9), w = k + Math.floor(r() * 9);
    return { n: 1 + Math.floor(r() * 3), h, w, c: 1 + Math.floor(r() * 6), k, s: pick([1, 2, 3]), pad: pick(['same', 'valid', 0, 1, 2] as const), co: 1 + Math.floor(r() * 7), mult: pick([1, 1, 2]) };
  });
}

async function grads(backend: string, f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D, x: Float32Array, xs: number[], w: Float32Array, ws: number[], dySeed: number) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs as [number, number, number, number]), wt = tf.tensor4d(w, ws as [number, number, number, number]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const y = f(a as tf.Tensor4D, b as tf.Tensor4D);
      return y.mul(tf.randomUniform(y.shape, -1, 1, 'float32', dySeed)).sum();
    });
    return g([xt, wt]).map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
  });
}

const close = (a: Float32Array, b: Float32Array) => {
  let worst = 0, scale = 1e-6;
  for (let i = 0; i < a.length; i++) { worst = Math.max(worst, Math.abs(a[i]! - b[i]!)); scale = Math.max(scale, Math.abs(b[i]!)); }
  return worst / scale;
};

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmGradients();
});

/** Runs 40 random cases of `op` on both backends and compares both gradients. */
async function compare(seed: number, op: (x: tf.Tensor4D, w: tf.Tensor4D, c: Case) => tf.Tensor4D, filterShape: (c: Case) => number[]) {
  for (const c of cases(seed, 40)) {
    const r = rng(c.h * 131 + c.w * 7 + c.c);
    const xs = [c.n, c.h, c.w, c.c], ws = filterShape(c);
    const x = Float32Array.from({ length: c.n * c.h * c.w * c.c }, () => r() * 2 - 1), w = Float32Array.from({ length: ws.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) => op(a, b, c);
    const cpu = await grads('cpu', f, x, xs, w, ws, seed + 4), wasm = await grads('wasm', f, x, xs, w, ws, seed + 4);
    for (let i = 0; i < 2; i++) {
      expect(wasm[i]!.shape).toEqual(cpu[i]!.shape);
      expect(close(wasm[i]!.data, cpu[i]!.data), `${JSON.stringify(c)} gradient ${i}`).toBeLessThan(1e-4);
    }
  }
}

describe('wasm gradient kernels equal the cpu backend', () => {
  it('Conv2DBackpropFilter (and the input gradient beside it) on 40 random convolutions', () =>
    compare(1, (a, b, c) => tf.conv2d(a, b, c.s, c.pad), (c) => [c.k, c.k, c.c, c.co]));

  it('DepthwiseConv2dNative backprop (input and filter) on 40 random depthwise convolutions', () =>
    compare(2, (a, b, c) => tf.depthwiseConv2d(a, b, c.s, c.pad), (c) => [c.k, c.k, c.c, c.mult]));

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([2, 9, 9, 4]), w = tf.randomNormal([3, 3, 4, 5]), d = tf.randomNormal([3, 3, 4, 1]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum())([x, w]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum())([x, d]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
