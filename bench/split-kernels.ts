// Where a split fine-tuning step spends its time, kernel by kernel: ResNet-18 `freeze until
// block3` at 224 px, the trained part (block4 and the head) on one wasm thread, one step (forward,
// backward, Adam update) at batch 16 on the frozen part's output (14 x 14 x 256). Timed with the
// convolutions in wasm (XNNPACK and kernels/wasm-grads.ts), then on ONNX Runtime's native kernels
// (kernels/ort-kernels.ts) with one and with every core, in the same run; the last is profiled
// with tf.profile. Kernels written with tf ops show as themselves and as the kernels they run.
//   npx tsx bench/split-kernels.ts [batch]
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/engines/tfjs/tf.js';
import { registerWasmGradients } from '../src/engines/tfjs/kernels/wasm-grads.js';
import { registerWasmOverrides } from '../src/engines/tfjs/kernels/wasm-overrides.js';
import { registerOrtKernels, setConvThreads } from '../src/engines/tfjs/kernels/ort-kernels.js';
import { batchLoss } from '../src/engines/tfjs/train/loop.js';
import { resnetTop } from './split-common.js';

const batch = Number(process.argv[2] ?? 16);
await tf.setBackend('wasm');
registerWasmGradients();
registerWasmOverrides();
const { top, input } = await resnetTop();
const opt = tf.train.adam(1e-3);
const vars = top.trainableWeights.map((w) => w.read() as tf.Variable);
const x = tf.randomUniform([batch, ...input], 0, 1, 'float32', 1),
  y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 2),
    'int32',
  );
const step = async () => {
  const l = opt.minimize(
    () => batchLoss(top.apply(x, { training: true }) as tf.Tensor, y, 2, null, false),
    true,
    vars,
  )!;
  await l.data();
  l.dispose();
};
const timed = async (label: string) => {
  await step();
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) await step();
  const ms = (performance.now() - t0) / 3;
  console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms a step (${((batch / ms) * 1000).toFixed(1)} img/s)`);
  return ms;
};
console.log(`ResNet-18 block4 + head, batch ${batch}, one step (mean of 3 after one to warm up):`);
const wasm = await timed('convolutions in wasm (XNNPACK), one thread');
const why = registerOrtKernels();
if (why) throw new Error(why);
setConvThreads(1);
const one = await timed('convolutions on ONNX Runtime, one thread');
setConvThreads(0);
const all = await timed('convolutions on ONNX Runtime, every core');
console.log(`ratio to wasm: ${(wasm / one).toFixed(2)}x on one thread, ${(wasm / all).toFixed(2)}x on every core`);
const p = await tf.profile(step);
const by = new Map<string, { ms: number; n: number }>();
for (const k of p.kernels) {
  const key = `${k.name} ${k.inputShapes.map((s) => `[${s?.join('x')}]`).join(' ')}`;
  const e = by.get(key) ?? { ms: 0, n: 0 };
  e.ms += Number(k.kernelTimeMs);
  e.n += 1;
  by.set(key, e);
}
const byName = new Map<string, number>();
for (const k of p.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + Number(k.kernelTimeMs));
console.log('profile, convolutions on ONNX Runtime, every core');
console.log('by kernel (nested kernels counted inside their caller too):');
for (const [k, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 14))
  console.log(`  ${k.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms`);
console.log('by kernel and input shapes:');
for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16))
  console.log(`  ${e.ms.toFixed(0).padStart(7)} ms  ${String(e.n).padStart(3)}x  ${k}`);
