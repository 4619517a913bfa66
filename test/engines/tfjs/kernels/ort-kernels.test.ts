import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { registerWasmGradients } from '../../../../src/engines/tfjs/kernels/wasm-grads.js';
import { registerWasmOverrides } from '../../../../src/engines/tfjs/kernels/wasm-overrides.js';
import {
  ORT_KERNELS,
  ortKernelCalls,
  ortNative,
  registerOrtKernels,
} from '../../../../src/engines/tfjs/kernels/ort-kernels.js';
import { convGrads, convMismatches, relativeError } from '../../../helpers/conv-cases.js';
import { rng } from '../../../helpers/random.js';

// The convolutions tlr runs on ONNX Runtime for the wasm backend, against the cpu backend's, through
// tf.grads exactly as a training step reaches them: outputs and both gradients, on random shapes,
// kernel sizes, strides, paddings and multipliers. Each case must go through ONNX Runtime.

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmGradients();
  registerWasmOverrides();
  expect(registerOrtKernels()).toBeNull();
});

const random = (r: () => number, n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);

describe('convolutions on ONNX Runtime equal the cpu backend', () => {
  it("every kernel it replaces is one wasm (with tlr's gradient kernels) has", () => {
    for (const name of Object.keys(ORT_KERNELS)) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
  });

  it('convolutions: 40 random ones, output and both gradients', async () => {
    const before = ortKernelCalls();
    expect(
      await convMismatches(
        'wasm',
        11,
        40,
        (a, b, c) => tf.conv2d(a, b, c.s, c.pad),
        (c) => [c.k, c.k, c.c, c.co],
      ),
    ).toEqual([]);
    expect(ortKernelCalls() - before).toBeGreaterThanOrEqual(120);
  });

  it('depthwise convolutions: 40 random ones with multipliers 1 and 2, output and both gradients', async () => {
    const before = ortKernelCalls();
    expect(
      await convMismatches(
        'wasm',
        12,
        40,
        (a, b, c) => tf.depthwiseConv2d(a, b, c.s, c.pad),
        (c) => [c.k, c.k, c.c, c.mult],
      ),
    ).toEqual([]);
    expect(ortKernelCalls() - before).toBeGreaterThanOrEqual(120);
  });

  it('fused with a bias and each activation ONNX covers, and dilated (forward)', async () => {
    const r = rng(5);
    const x = random(r, 2 * 11 * 9 * 3),
      w = random(r, 3 * 3 * 3 * 4),
      bias = random(r, 4),
      dw = random(r, 3 * 3 * 3 * 2),
      dbias = random(r, 6);
    for (const activation of ['linear', 'relu', 'relu6', 'sigmoid', 'elu'] as const) {
      for (const [stride, dilation] of [
        [1, 1],
        [2, 1],
        [1, 2],
      ] as const) {
        const on = async (backend: string) => {
          await tf.setBackend(backend);
          return tf.tidy(() => {
            const xt = tf.tensor4d(x, [2, 11, 9, 3]);
            const y = tf.fused.conv2d({
              x: xt,
              filter: tf.tensor4d(w, [3, 3, 3, 4]),
              strides: stride,
              pad: 'same',
              dilations: dilation,
              bias: tf.tensor1d(bias),
              activation,
            });
            const d = tf.fused.depthwiseConv2d({
              x: xt,
              filter: tf.tensor4d(dw, [3, 3, 3, 2]),
              strides: stride,
              pad: 'valid',
              dilations: dilation,
              bias: tf.tensor1d(dbias),
              activation,
            });
            return [y, d].map((t) => Float32Array.from(t.dataSync()));
          });
        };
        const before = ortKernelCalls();
        const [cpu, wasm] = [await on('cpu'), await on('wasm')];
        expect(ortKernelCalls() - before, activation).toBe(2);
        cpu.forEach((c, i) => {
          expect(relativeError(wasm[i]!, c), `${activation} stride ${stride} dilation ${dilation}`).toBeLessThan(1e-5);
        });
      }
    }
  });

  it('what ONNX has no form for (prelu) goes to the kernel it replaced, with the same result', async () => {
    const r = rng(6);
    const x = random(r, 1 * 6 * 6 * 2),
      w = random(r, 3 * 3 * 2 * 3),
      alpha = random(r, 3);
    const on = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() =>
        Float32Array.from(
          tf.fused
            .conv2d({
              x: tf.tensor4d(x, [1, 6, 6, 2]),
              filter: tf.tensor4d(w, [3, 3, 2, 3]),
              strides: 1,
              pad: 'same',
              activation: 'prelu',
              preluActivationWeights: tf.tensor1d(alpha),
            })
            .dataSync(),
        ),
      );
    };
    const cpu = await on('cpu'),
      before = ortKernelCalls(),
      wasm = await on('wasm');
    expect(ortKernelCalls()).toBe(before);
    expect(relativeError(wasm, cpu)).toBeLessThan(1e-5);
  });

  it("a ResNet downsampling block's two paths (3 x 3 and 1 x 1, stride 2, 64 to 128 channels) agree too", async () => {
    const r = rng(7);
    const x = random(r, 2 * 7 * 7 * 64),
      w = random(r, 3 * 3 * 64 * 128);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) =>
      tf.conv2d(a, b, 2, 'same').add(tf.conv2d(a, b.slice([1, 1, 0, 0], [1, 1, 64, 128]), 2, 'same')) as tf.Tensor4D;
    const cpu = await convGrads('cpu', f, x, [2, 7, 7, 64], w, [3, 3, 64, 128], 3),
      wasm = await convGrads('wasm', f, x, [2, 7, 7, 64], w, [3, 3, 64, 128], 3);
    cpu.forEach((c, i) => {
      expect(relativeError(wasm[i]!.data, c.data)).toBeLessThan(1e-4);
    });
  });

  it(
    'Sum and Mean over leading axes (kept or not) run there; over other axes, or of ints, on wasm; all ' +
      'equal the cpu backend',
    async () => {
      const r = rng(8);
      const cases: [number[], number | number[] | undefined, boolean, boolean][] = [
        [[4, 3, 3, 5], [0, 1, 2], false, true],
        [[4, 3, 3, 5], [2, 1, 0], true, true],
        [[6, 7], 0, false, true],
        [[6, 7], -2, true, true],
        [[2, 3, 4], [0, 1], false, true],
        [[4, 3, 3, 5], [1, 2], false, false],
        [[4, 5], 1, false, false],
        [[4, 5], undefined, false, false],
      ];
      for (const [shape, axis, keepDims, onOrt] of cases) {
        const x = random(
          r,
          shape.reduce((a, b) => a * b, 1),
        );
        for (const op of ['sum', 'mean'] as const) {
          const on = async (backend: string) => {
            await tf.setBackend(backend);
            return tf.tidy(() => {
              const t = tf[op](tf.tensor(x, shape), axis, keepDims);
              return { shape: t.shape, data: Float32Array.from(t.dataSync()) };
            });
          };
          const cpu = await on('cpu'),
            before = ortKernelCalls(),
            wasm = await on('wasm');
          const what = `${op} of ${shape} over ${axis} keepDims ${keepDims}`;
          expect(ortKernelCalls() - before, what).toBe(onOrt ? 1 : 0);
          expect(wasm.shape, what).toEqual(cpu.shape);
          expect(relativeError(wasm.data, cpu.data), what).toBeLessThan(1e-5);
        }
      }
      await tf.setBackend('wasm');
      const before = ortKernelCalls();
      expect(Array.from(tf.tidy(() => tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0).dataSync()))).toEqual([
        4, 6,
      ]);
      expect(ortKernelCalls()).toBe(before);
    },
  );

  it('a model ONNX Runtime refuses goes to the kernel it replaced, with one warning', async () => {
    const n = ortNative();
    if ('error' in n) throw new Error(n.error);
    const real = n.Session;
    n.Session = class {
      loadModel(): void {
        throw new Error('no such kernel');
      }
    } as unknown as typeof real;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const r = rng(9);
      const x = random(r, 1 * 13 * 11 * 3),
        w = random(r, 3 * 3 * 3 * 5);
      const on = async (backend: string) => {
        await tf.setBackend(backend);
        return tf.tidy(() =>
          Float32Array.from(
            tf.conv2d(tf.tensor4d(x, [1, 13, 11, 3]), tf.tensor4d(w, [3, 3, 3, 5]), 1, 'same').dataSync(),
          ),
        );
      };
      const cpu = await on('cpu'),
        before = ortKernelCalls(),
        wasm = await on('wasm'),
        again = await on('wasm');
      expect(ortKernelCalls()).toBe(before);
      expect(relativeError(wasm, cpu)).toBeLessThan(1e-5);
      expect(again).toEqual(wasm);
      await new Promise((done) => setImmediate(done));
      expect(warnings.filter((m) => m.includes('ONNX Runtime refused')).length).toBe(1);
      expect(warnings[0]).toContain('no such kernel');
    } finally {
      n.Session = real;
      process.off('warning', onWarning);
    }
  });

  it('leaks no tensors and no backend data', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors,
      data = tf.engine().backend.numDataIds();
    tf.tidy(() => {
      const x = tf.randomNormal([2, 9, 9, 4]),
        w = tf.randomNormal([3, 3, 4, 5]),
        d = tf.randomNormal([3, 3, 4, 1]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum())([x, w]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum())(
        [x, d],
      );
    });
    expect([tf.memory().numTensors, tf.engine().backend.numDataIds()]).toEqual([before, data]);
  });
});
