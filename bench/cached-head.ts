// A head-only epoch on cached features against an epoch that runs the frozen backbone on the same
// images (MobileNet V2 0.35 at 224, 256 images, batch 32), measured in the same run.
//   npx tsx bench/cached-head.ts
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/engines/tfjs/tf.js';
import { registerWasmGradients } from '../src/engines/tfjs/kernels/wasm-grads.js';
import { loadZooModel } from '../src/engines/tfjs/tf-layers/model.js';
import { joinNetwork, makeHead, setFrozen } from '../src/engines/tfjs/train/network.js';
import { FeatureSource, type BatchSource } from '../src/engines/tfjs/train/batch-sources.js';
import { batchLoss } from '../src/engines/tfjs/train/loop.js';

const N = 256,
  B = 32,
  classes = 10;
await tf.setBackend('wasm');
registerWasmGradients();
const built = await loadZooModel('mobilenet_v2', { width: 0.35, inputSize: 224, weights: 'none', seed: 1 });
const net = joinNetwork(
  built.model,
  makeHead(built.info.featureSize, [{ kind: 'dense', units: classes, activation: 'linear' }], 1),
);
setFrozen(net, built.info, built.info.layers.length);
const images = tf.randomUniform([N, 224, 224, 3], -1, 1, 'float32', 3);
const labels = Int32Array.from({ length: N }, (_, i) => i % classes);

async function epoch(model: tf.LayersModel, src: BatchSource): Promise<number> {
  const opt = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const t0 = performance.now();
  for await (const b of src.batches(B, true, 1)) {
    const y = tf.tensor1d(b.y, 'int32');
    const l = opt.minimize(
      () => batchLoss(model.apply(b.x, { training: true }) as tf.Tensor, y, classes, null, false),
      true,
      vars,
    )!;
    await l.data();
    tf.dispose([l, y, b.x]);
  }
  opt.dispose();
  return (performance.now() - t0) / 1000;
}

// FeatureSource gathers rows of a 4-D tensor the same way it gathers feature rows.
const imageSource = new FeatureSource(images as unknown as tf.Tensor2D, labels);
const backbone = await epoch(net.full, imageSource);
const t0 = performance.now();
const feats = tf.tidy(() => net.backbone.predict(images, { batchSize: B }) as tf.Tensor2D);
await feats.data();
const extract = (performance.now() - t0) / 1000;
const head = await epoch(net.head, new FeatureSource(feats, labels));
console.log(`one epoch over ${N} images, batch ${B}, MobileNet V2 0.35 @224 frozen, dense head (wasm)`);
console.log(`  running the frozen backbone     ${backbone.toFixed(2).padStart(8)} s`);
console.log(
  `  head only, on cached features   ${head.toFixed(3).padStart(8)} s   (features computed once in ` +
    `${extract.toFixed(2)} s)`,
);
console.log(`  ratio                           ${(backbone / head).toFixed(0)}x faster per epoch (goal: >= 50x)`);
