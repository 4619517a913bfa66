import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { registerWasmGradients } from '../../../../src/engines/tfjs/kernels/wasm-grads.js';
import { registerWasmOverrides } from '../../../../src/engines/tfjs/kernels/wasm-overrides.js';
import { rng } from '../../../helpers/random.js';
import { convMismatches, relativeError, type ConvCase } from '../../../helpers/conv-cases.js';

// The composed wasm gradient kernels against the cpu backend's, through tf.grads exactly as a
// training step reaches them, on random shapes, kernel sizes, strides, paddings and multipliers.

const close = relativeError;

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmGradients();
  registerWasmOverrides();
});

/** Runs 40 random cases of `op` on both backends and compares the output and both gradients. */
async function compare(
  seed: number,
  op: (x: tf.Tensor4D, w: tf.Tensor4D, c: ConvCase) => tf.Tensor4D,
  filterShape: (c: ConvCase) => number[],
) {
  expect(await convMismatches('wasm', seed, 40, op, filterShape)).toEqual([]);
}

describe('wasm gradient kernels equal the cpu backend', () => {
  it('Conv2DBackpropFilter (and the input gradient beside it) on 40 random convolutions', () =>
    compare(
      1,
      (a, b, c) => tf.conv2d(a, b, c.s, c.pad),
      (c) => [c.k, c.k, c.c, c.co],
    ));

  it('DepthwiseConv2dNative backprop (input and filter) on 40 random depthwise convolutions', () =>
    compare(
      2,
      (a, b, c) => tf.depthwiseConv2d(a, b, c.s, c.pad),
      (c) => [c.k, c.k, c.c, c.mult],
    ));

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([2, 9, 9, 4]),
        w = tf.randomNormal([3, 3, 4, 5]),
        d = tf.randomNormal([3, 3, 4, 1]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum())([x, w]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum())(
        [x, d],
      );
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('wasm kernels tlr replaces', () => {
  it('Tile equals the cpu backend on random shapes and repetitions, and BatchNorm gradients through it', async () => {
    const r = rng(17);
    for (let t = 0; t < 20; t++) {
      const rank = 1 + Math.floor(r() * 4);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(r() * 4)),
        reps = Array.from({ length: rank }, () => 1 + Math.floor(r() * 3));
      const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1);
      const on = async (backend: string) => {
        await tf.setBackend(backend);
        return tf.tidy(() => Array.from(tf.tile(tf.tensor(x, shape), reps).dataSync()));
      };
      expect(await on('wasm'), `${shape} x ${reps}`).toEqual(await on('cpu'));
    }
    const x = Float32Array.from({ length: 2 * 3 * 3 * 4 }, () => r() * 2 - 1);
    const bnGrads = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, s: tf.Tensor) =>
          tf
            .batchNorm(
              a as tf.Tensor4D,
              tf.tensor1d([0.1, 0, -0.2, 0.3]),
              tf.tensor1d([1, 2, 0.5, 1]),
              tf.tensor1d([0, 1, 0, 1]),
              s as tf.Tensor1D,
            )
            .square()
            .sum(),
        );
        return g([tf.tensor4d(x, [2, 3, 3, 4]), tf.tensor1d([1, 0.5, 2, 1])]).map((t) =>
          Float32Array.from(t.dataSync()),
        );
      });
    };
    const [cpu, wasm] = [await bnGrads('cpu'), await bnGrads('wasm')];
    cpu.forEach((c, i) => {
      expect(close(wasm[i]!, c)).toBeLessThan(1e-5);
    });
  });
});

describe('wasm matrix products with transposed operands', () => {
  it('equal the cpu backend for every transpose, batched and broadcast, fused with bias and activation', async () => {
    const r = rng(9);
    const shapes: [number[], number[]][] = [
      [
        [7, 5],
        [5, 3],
      ],
      [
        [1, 9],
        [9, 1],
      ],
      [
        [4, 6, 5],
        [4, 5, 2],
      ],
      [
        [3, 4, 6],
        [6, 3],
      ],
      [
        [2, 3, 1, 4],
        [4, 5],
      ],
    ];
    for (const [sa, sb] of shapes) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);
        const a = Float32Array.from({ length: sa.reduce((x, y) => x * y, 1) }, () => r() * 2 - 1);
        const b = Float32Array.from({ length: sb.reduce((x, y) => x * y, 1) }, () => r() * 2 - 1);
        const bias = Float32Array.from({ length: sb[sb.length - 1]! }, () => r() - 0.5);
        const on = async (backend: string) => {
          await tf.setBackend(backend);
          return tf.tidy(() => {
            const at = tf.tensor(a, swap(sa, ta)),
              bt = tf.tensor(b, swap(sb, tb));
            const plain = tf.matMul(at, bt, ta, tb);
            const fused =
              sa.length === 2 && sb.length === 2
                ? tf.fused.matMul({
                    a: at as tf.Tensor2D,
                    b: bt as tf.Tensor2D,
                    transposeA: ta,
                    transposeB: tb,
                    bias: tf.tensor1d(bias),
                    activation: 'relu',
                  })
                : plain;
            return [plain, fused].map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
          });
        };
        const cpu = await on('cpu'),
          wasm = await on('wasm');
        for (let i = 0; i < 2; i++) {
          expect(wasm[i]!.shape).toEqual(cpu[i]!.shape);
          expect(close(wasm[i]!.data, cpu[i]!.data), `${sa} x ${sb} transposeA=${ta} transposeB=${tb}`).toBeLessThan(
            1e-5,
          );
        }
      }
    }
  });

  it('leave no tensors and no backend data behind', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors,
      data = tf.engine().backend.numDataIds();
    tf.tidy(() => {
      const x = tf.randomNormal([16, 8]),
        y = tf.randomNormal([16, 4]);
      tf.matMul(x, y, true, false);
      tf.matMul(y, x.transpose(), true, true);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b).sum())([x, tf.randomNormal([8, 3])]);
    });
    expect([tf.memory().numTensors, tf.engine().backend.numDataIds()]).toEqual([before, data]);
  });
});
