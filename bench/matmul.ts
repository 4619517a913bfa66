// Matrix products with a transposed operand, as gradients ask for them, on wasm: tlr's wrappers
// (transpose explicitly, then XNNPACK's plain product) against wasm's own kernel, and a head
// training step (1280 features -> dense(256, relu) -> dense(10), batch 128: the Fashion-MNIST
// feature-extraction recipe's head) both ways, measured in the same run.
//   npx tsx bench/matmul.ts
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/engines/tfjs/tf.js';
import { registerWasmOverrides, unregisterWasmOverrides } from '../src/engines/tfjs/kernels/wasm-overrides.js';
import { makeHead } from '../src/engines/tfjs/train/network.js';
import { batchLoss } from '../src/engines/tfjs/train/loop.js';

await tf.setBackend('wasm');

function ms(f: () => void, reps = 10): number {
  f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

const both = (f: () => void): [number, number] => {
  registerWasmOverrides();
  const ours = ms(f);
  unregisterWasmOverrides();
  return [ours, ms(f)];
};

console.log('wasm, milliseconds (lower is better)            tlr   wasm own   ratio');
const row = (label: string, [ours, theirs]: [number, number]) =>
  console.log(
    `  ${label.padEnd(44)} ${ours.toFixed(1).padStart(6)}   ${theirs.toFixed(1).padStart(6)}   ` +
      `${(theirs / ours).toFixed(1).padStart(5)}x`,
  );

for (const [m, k, n] of [
  [128, 1280, 256],
  [50176, 64, 64],
  [3136, 256, 256],
] as const) {
  const x = tf.randomUniform([m, k]),
    dy = tf.randomUniform([m, n]),
    w = tf.randomUniform([k, n]);
  row(
    `x^T dy  [${m},${k}]^T [${m},${n}]`,
    both(() => tf.matMul(x, dy, true, false).dispose()),
  );
  row(
    `dy w^T  [${m},${n}] [${k},${n}]^T`,
    both(() => tf.matMul(dy, w, false, true).dispose()),
  );
  tf.dispose([x, dy, w]);
}

const head = makeHead(
  1280,
  [
    { kind: 'dense', units: 256, activation: 'relu' },
    { kind: 'dropout', rate: 0.3 },
    { kind: 'dense', units: 10, activation: 'linear' },
  ],
  1,
);
const x = tf.randomUniform([128, 1280]),
  y = tf.tensor1d(
    Array.from({ length: 128 }, (_, i) => i % 10),
    'int32',
  );
const opt = tf.train.adam(1e-3);
const step = () =>
  tf.dispose(
    opt.minimize(() => batchLoss(head.apply(x, { training: true }) as tf.Tensor, y, 10, null, false), true) ??
      undefined,
  );
row('head training step (batch 128)', both(step));
