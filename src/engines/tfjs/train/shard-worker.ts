import { parentPort, workerData } from 'node:worker_threads';
import { tf } from '../tf.js';
import { chooseBackend } from '../backend.js';
import { batchNorms, movingStats, shardGradients, trainableVars } from './shard-math.js';
import type { ShardReply, ShardRequest } from './shard-messages.js';
import '../tf-layers/layers.js'; // registers the zoo's layer classes, which the model's JSON names

// One training worker: its own TensorFlow.js and wasm instance holding a replica of the model
// being trained. Each step it takes the weights as they are now, runs its shard of the batch and
// sends back the gradients and its BatchNorm layers' moving statistics.

const port = parentPort!;
const ready = chooseBackend((workerData as { backend: string }).backend);
let model: tf.LayersModel | null = null;

async function load(m: Extract<ShardRequest, { type: 'load' }>): Promise<void> {
  model?.dispose();
  model = await tf.models.modelFromJSON(JSON.parse(m.json) as tf.io.ModelJSON['modelTopology'] as never);
  for (const l of batchNorms(model)) l.keepStatistics = m.keep.includes(l.name);
  const shapes = model.weights.map((w) => w.shape.join('x')).join(',');
  if (shapes !== m.shapes.join(','))
    throw new Error(`the replica's weights (${shapes}) differ from the model's (${m.shapes.join(',')})`);
  tf.tidy(() =>
    model!.weights.forEach((w, i) => {
      w.write(tf.tensor(m.weights[i]!, w.shape as number[]));
    }),
  );
}

async function step(m: Extract<ShardRequest, { type: 'step' }>): Promise<ShardReply> {
  const vars = trainableVars(model!),
    stats = movingStats(model!);
  tf.tidy(() =>
    [...vars, ...stats].forEach((v, i) => {
      v.assign(tf.tensor(m.weights[i]!, v.shape));
    }),
  );
  const x = tf.tensor(m.x, [...m.shape]);
  const r = await shardGradients(model!, vars, x, m.y, m.spec);
  const grads = await Promise.all(r.grads.map(async (g) => ((await g.data()) as Float32Array).slice()));
  const moved = await Promise.all(stats.map(async (v) => ((await v.data()) as Float32Array).slice()));
  tf.dispose([x, ...r.grads]);
  return { type: 'stepped', id: m.id, grads, stats: moved, loss: r.loss, hits: r.hits };
}

port.on('message', async (m: ShardRequest) => {
  try {
    await ready;
    if (m.type === 'load') {
      await load(m);
      port.postMessage({ type: 'loaded', id: m.id } satisfies ShardReply);
    } else {
      const reply = (await step(m)) as Extract<ShardReply, { type: 'stepped' }>;
      port.postMessage(
        reply,
        [...reply.grads, ...reply.stats].map((a) => a.buffer as ArrayBuffer),
      );
    }
  } catch (e) {
    port.postMessage({
      type: 'error',
      id: m.id,
      message: e instanceof Error ? e.message : String(e),
    } satisfies ShardReply);
  }
});
