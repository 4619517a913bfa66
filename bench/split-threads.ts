// Data-parallel training of a split stage's trained part on worker threads (train/data-parallel.ts):
// ResNet-18 block4 and the head at 224 px (input 14 x 14 x 256, as after `freeze until block3`),
// Adam, batch 32: seconds per step on one wasm thread vs shared among the main thread and
// workers (each its own wasm instance), in the same run. Convolutions run where a run puts them:
// on ONNX Runtime (every core for one thread, one core per thread when sharded), or in wasm with
// TLR_CONV=wasm.
//   npx tsx bench/split-threads.ts [batch] [steps]
import * as os from 'node:os';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/engines/tfjs/tf.js';
import { registerWasmGradients } from '../src/engines/tfjs/kernels/wasm-grads.js';
import { registerWasmOverrides } from '../src/engines/tfjs/kernels/wasm-overrides.js';
import { convEngineWanted, convThreads, registerOrtKernels } from '../src/engines/tfjs/kernels/ort-kernels.js';
import { batchLoss } from '../src/engines/tfjs/train/loop.js';
import { resnetTop } from './split-common.js';
import { ShardTrainer } from '../src/engines/tfjs/train/data-parallel.js';

const batch = Number(process.argv[2] ?? 32),
  steps = Number(process.argv[3] ?? 4);
await tf.setBackend('wasm');
registerWasmGradients();
registerWasmOverrides();
if (convEngineWanted() === 'ort') {
  const why = registerOrtKernels();
  if (why) throw new Error(why);
}
const where =
  convEngineWanted() === 'ort'
    ? `convolutions on ONNX Runtime (${convThreads()} threads for one thread, 1 each when sharded)`
    : 'convolutions in wasm';
const { top, input } = await resnetTop();
const x = tf.randomUniform([batch, ...input], 0, 1, 'float32', 1),
  yv = Int32Array.from({ length: batch }, (_, i) => i % 2),
  y = tf.tensor1d(yv, 'int32');
const vars = top.trainableWeights.map((w) => w.read() as tf.Variable);

async function time(step: () => Promise<void>): Promise<number> {
  await step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return (performance.now() - t0) / steps / 1000;
}

const opt = tf.train.adam(1e-3);
const one = await time(async () => {
  const l = opt.minimize(
    () => batchLoss(top.apply(x, { training: true }) as tf.Tensor, y, 2, null, false),
    true,
    vars,
  )!;
  await l.data();
  l.dispose();
});
const threads = Math.min(os.availableParallelism(), 8);
const trainer = await ShardTrainer.start(top, threads - 1, 'wasm');
const many = await time(async () => {
  await trainer.step(opt, x, yv, { classes: 2, probabilities: false, classWeights: null });
});
await trainer.close();
console.log(
  `ResNet-18 block4 + head, batch ${batch}, Adam, ${where}: one wasm thread ${one.toFixed(2)} s a step ` +
    `(${(batch / one).toFixed(1)} img/s); ${threads} threads ${many.toFixed(2)} s (${(batch / many).toFixed(1)} ` +
    `img/s): ${(one / many).toFixed(2)}x`,
);
