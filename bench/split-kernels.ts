// Where a split fine-tuning step spends its time, kernel by kernel: ResNet-18 `freeze until
// block3` at 224 px, the trained part (block4 and the head) on one wasm thread, one step (forward,
// backward, Adam update) at batch 16 on the frozen part's output (14 x 14 x 256), profiled with
// tf.profile. Gradient kernels written with tf ops (kernels/wasm-grads.ts) show as themselves and
// as the kernels they run.
//   npx tsx bench/split-kernels.ts [batch]
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/runtime/tf.js';
import { registerWasmGradients } from '../src/runtime/kernels/wasm-grads.js';
import { registerWasmOverrides } from '../src/runtime/kernels/wasm-overrides.js';
import { batchLoss } from '../src/runtime/train/loop.js';
import { resnetTop } from './split-common.js';

const batch = Number(process.argv[2] ?? 16);
await tf.setBackend('wasm');
registerWasmGradients();
registerWasmOverrides();
const { top, input } = await resnetTop();
const opt = tf.train.adam(1e-3);
const vars = top.trainableWeights.map((w) => w.read() as tf.Variable);
const x = tf.randomUniform([batch, ...input], 0, 1, 'float32', 1), y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 2), 'int32');
const step = async () => {
  const l = opt.minimize(() => batchLoss(top.apply(x, { training: true }) as tf.Tensor, y, 2, null, false), true, vars)!;
  await l.data();
  l.dispose();
};
await step();
const t0 = performance.now();
await step();
const whole = performance.now() - t0;
const p = await tf.profile(step);
const by = new Map<string, { ms: number; n: number }>();
for (const k of p.kernels) {
  const key = `${k.name} ${k.inputShapes.map((s) => `[${s?.join('x')}]`).join(' ')}`;
  const e = by.get(key) ?? { ms: 0, n: 0 };
  e.ms += Number(k.kernelTimeMs); e.n += 1;
  by.set(key, e);
}
const byName = new Map<string, number>();
for (const k of p.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + Number(k.kernelTimeMs));
console.log(`ResNet-18 block4 + head, batch ${batch}, one wasm thread: a step takes ${whole.toFixed(0)} ms (${(batch / whole * 1000).toFixed(1)} img/s)`);
console.log('by kernel (nested kernels counted inside their caller too):');
for (const [k, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`  ${k.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms`);
console.log('by kernel and input shapes:');
for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) console.log(`  ${e.ms.toFixed(0).padStart(7)} ms  ${String(e.n).padStart(3)}x  ${k}`);
