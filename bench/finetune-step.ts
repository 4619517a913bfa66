// One fine-tuning step (forward, backward, update; batch 16) of MobileNet V1 0.25 at 224 with
// block11 onward trainable: the wasm backend with tlr's gradient kernels and its replacements of
// slow wasm kernels (wasm-overrides.ts), the same with wasm's own kernels where it has them, and
// the cpu backend, measured in the same run.
//   npx tsx bench/finetune-step.ts [steps]
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/engines/tfjs/tf.js';
import { registerWasmGradients } from '../src/engines/tfjs/kernels/wasm-grads.js';
import { registerWasmOverrides, unregisterWasmOverrides } from '../src/engines/tfjs/kernels/wasm-overrides.js';
import { loadZooModel } from '../src/engines/tfjs/tf-layers/model.js';
import { joinNetwork, makeHead, setFrozen } from '../src/engines/tfjs/train/network.js';
import { batchLoss } from '../src/engines/tfjs/train/loop.js';

const steps = Number(process.argv[2] ?? 5);

async function timeStep(backend: string): Promise<number> {
  await tf.setBackend(backend);
  await tf.ready();
  const built = await loadZooModel('mobilenet_v1', { width: 0.25, inputSize: 224, weights: 'none', seed: 1 });
  const net = joinNetwork(
    built.model,
    makeHead(built.info.featureSize, [{ kind: 'dense', units: 10, activation: 'linear' }], 1),
  );
  setFrozen(net, built.info, built.info.blocks.find((b) => b.name === 'block11')!.first);
  const opt = tf.train.adam(1e-4);
  const vars = net.full.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.randomUniform([16, 224, 224, 3], -1, 1, 'float32', 1),
    y = tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => i % 10),
      'int32',
    );
  const step = async () => {
    const l = opt.minimize(
      () => batchLoss(net.full.apply(x, { training: true }) as tf.Tensor, y, 10, null, false),
      true,
      vars,
    )!;
    await l.data();
    l.dispose();
  };
  await step(); // warm-up: kernels compiled, buffers allocated
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const ms = (performance.now() - t0) / steps;
  tf.dispose([x, y]);
  opt.dispose();
  net.full.dispose();
  return ms;
}

registerWasmGradients();
registerWasmOverrides();
const wasm = await timeStep('wasm');
unregisterWasmOverrides();
const plain = await timeStep('wasm');
const cpu = await timeStep('cpu');
console.log(
  `fine-tuning step, MobileNet V1 0.25 @224, batch 16, block11.. trainable (${steps} steps, after a warm-up)`,
);
console.log(`  wasm + tlr kernels                     ${wasm.toFixed(0).padStart(7)} ms/step`);
console.log(
  `  wasm + tlr kernels, wasm's own others ${plain.toFixed(0).padStart(7)} ms/step   ` +
    `(${(plain / wasm).toFixed(2)}x the time)`,
);
console.log(`  cpu (baseline)                         ${cpu.toFixed(0).padStart(7)} ms/step`);
console.log(`  ratio                                  ${(cpu / wasm).toFixed(1)}x faster on wasm (goal: >= 10x)`);
