// The memory of a whole-network training step on TensorFlow.js' wasm backend, measured (tf.profile's
// peak bytes over one step) against src/engines/tfjs/memory.ts's model, which sizes micro-batches
// to fit wasm's 4 GiB heap. Each network at its own input size, micro-batches of 1 and 2 images
// (the difference is the per-image cost). Not a speed claim: a check that the model stays an upper
// bound, and by how much.
//   npx tsx bench/training-memory.ts [networks, comma-separated; default one per family]
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/engines/tfjs/tf.js';
import { chooseBackend } from '../src/engines/tfjs/backend.js';
import { buildLayers } from '../src/engines/tfjs/tf-layers/build.js';
import { joinNetwork, makeHead, setFrozen } from '../src/engines/tfjs/train/network.js';
import { shardGradients, trainableVars } from '../src/engines/tfjs/train/shard-math.js';
import { describe, graphOf } from '../src/zoo/catalog.js';
import { stageMemory } from '../src/engines/tfjs/memory.js';
import type { Plan, PlanStage } from '../src/contracts/plan.js';

const NETS = (process.argv[2] ?? 'mobilenet_v1,mobilenet_v2,resnet18,resnet50,densenet121,inception_v3,alexnet').split(
  ',',
);
const MB = 2 ** 20;

async function peak(name: string, rows: number): Promise<number> {
  const info = describe(name, null, null);
  const net = joinNetwork(
    buildLayers(graphOf(name, info.width, info.inputSize), info.featureLayer, name, 1),
    makeHead(info.featureSize, [{ kind: 'dense', units: 10, activation: 'linear' }], 1),
  );
  setFrozen(net, info, 0);
  const x = tf.randomUniform([rows, info.inputSize, info.inputSize, 3]);
  const before = tf.memory().numBytes;
  const spec = { classes: 10, probabilities: false, classWeights: null, denominator: rows };
  const prof = await tf.profile(async () => {
    const r = await shardGradients(net.full, trainableVars(net.full), x, new Int32Array(rows), spec);
    tf.dispose(r.grads);
  });
  tf.dispose(x);
  net.full.dispose();
  return prof.peakBytes - before;
}

/** The model's view of the same step (SGD: the bench applies no optimizer, so no optimizer slots are measured). */
function modelled(name: string, rows: number): number {
  const info = describe(name, null, null);
  const stage = {
    batch: rows,
    optimizer: 'sgd',
    frozen: { params: 0 },
    trainable: { backboneParams: info.backboneParams, headParams: info.featureSize * 10 + 10 },
  } as unknown as PlanStage;
  const plan = { model: { name, width: info.width, inputSize: info.inputSize } } as unknown as Plan;
  const m = stageMemory(plan, stage)!;
  return m.fixed + rows * m.perImage;
}

await chooseBackend('wasm');
console.log('network        input  measured 1 / 2 images (MB)   modelled 1 / 2 (MB)   measured/modelled (2 images)');
for (const name of NETS) {
  const [one, two] = [await peak(name, 1), await peak(name, 2)];
  const [m1, m2] = [modelled(name, 1), modelled(name, 2)];
  console.log(
    `${name.padEnd(14)} ${String(describe(name).inputSize).padEnd(6)} ${(one / MB).toFixed(0).padStart(8)} / ` +
      `${(two / MB).toFixed(0).padEnd(16)} ${(m1 / MB).toFixed(0).padStart(8)} / ${(m2 / MB).toFixed(0).padEnd(10)} ` +
      `${(two / m2).toFixed(2)}`,
  );
}
