// Fine-tuning on images, as the Fashion-MNIST recipe's second stage does it (MobileNet V1 0.25 at
// 64 px, block9 onward trainable, batch 64): batches per second when the whole network runs in the
// training loop (tf.layers, as before tlr split stages), against the split stage: the frozen part
// as an inference program, in this thread or in worker threads a few batches ahead. Same run.
//   npx tsx bench/finetune-epoch.ts [batches]
import * as os from 'node:os';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/engines/tfjs/tf.js';
import { chooseBackend } from '../src/engines/tfjs/backend.js';
import { loadZooModel } from '../src/engines/tfjs/tf-layers/model.js';
import { joinNetwork, makeHead, setFrozen } from '../src/engines/tfjs/train/network.js';
import { batchLoss } from '../src/engines/tfjs/train/loop.js';
import { PrefixSource, splitFrozen } from '../src/engines/tfjs/train/split-stage.js';
import { startEngine } from '../src/engines/tfjs/infer/engine.js';
import type { BatchSource, XY } from '../src/engines/tfjs/train/batch-sources.js';

const batches = Number(process.argv[2] ?? 40),
  B = 64,
  size = 64;
const workers = Math.min(os.availableParallelism(), 8);
await chooseBackend('wasm');

/** Random images, made ahead so every variant trains on the same batches. */
const data = Array.from({ length: batches }, (_, i) => tf.randomUniform([B, size, size, 3], -1, 1, 'float32', i));
const labels = Int32Array.from({ length: B }, (_, i) => i % 10);
const images: BatchSource = {
  size: batches * B,

  decodes: true,
  async *batches(): AsyncGenerator<XY> {
    for (const x of data) yield { x: x.clone(), y: labels, ids: labels };
  },
};

async function epoch(mode: 'whole' | 'split' | 'split+workers'): Promise<number> {
  const built = await loadZooModel('mobilenet_v1', { width: 0.25, inputSize: size, weights: 'none', seed: 1 });
  const net = joinNetwork(
    built.model,
    makeHead(
      built.info.featureSize,
      [
        { kind: 'dropout', rate: 0.2 },
        { kind: 'dense', units: 10, activation: 'linear' },
      ],
      1,
    ),
  );
  const frozen = built.info.blocks.find((b) => b.name === 'block9')!.first;
  setFrozen(net, built.info, frozen);
  const split = mode === 'whole' ? null : splitFrozen(net, built.graph, built.info, frozen)!;
  const engine = split ? await startEngine(split.prefix, mode === 'split' ? 0 : workers, 'wasm') : null;
  const src = split ? new PrefixSource(images, async () => engine!) : images;
  const model = split ? split.top : net.full;
  const opt = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const y = tf.tensor1d(labels, 'int32');
  let t0 = 0,
    n = 0;
  for await (const b of src.batches(B, true, 0)) {
    const l = opt.minimize(
      () => batchLoss(model.apply(b.x, { training: true }) as tf.Tensor, y, 10, null, false),
      true,
      vars,
    )!;
    await l.data();
    tf.dispose([l, b.x]);
    if (++n === 2) t0 = performance.now(); // the first two batches warm up kernels and workers
  }
  const rate = (n - 2) / ((performance.now() - t0) / 1000);
  await engine?.close();
  opt.dispose();
  y.dispose();
  split?.top.dispose();
  net.full.dispose();
  return rate;
}

const whole = await epoch('whole'),
  split = await epoch('split'),
  pooled = await epoch('split+workers');
console.log(
  `fine-tuning MobileNet V1 0.25 @${size}px from block9, batch ${B}, ${batches} batches (wasm), ` +
    `batches/second (higher is better)`,
);
console.log(`  whole network in the loop (baseline)       ${whole.toFixed(2).padStart(6)}`);
console.log(
  `  split, frozen part in this thread          ${split.toFixed(2).padStart(6)}   ${(split / whole).toFixed(2)}x`,
);
console.log(
  `  split, frozen part on ${workers} worker threads    ${pooled.toFixed(2).padStart(6)}   ` +
    `${(pooled / whole).toFixed(2)}x`,
);
