// Feature extraction, images/second: tlr on wasm (tf.layers as built, the compiled inference
// program on one thread, and the program on one worker thread per core) against PyTorch on this
// machine (Debian's python3-torch: 2 threads, eval mode, no_grad), same network, input and batch,
// measured in the same run.   npx tsx bench/feature-extraction.ts [batches per worker]
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/engines/tfjs/tf.js';
import { buildLayers } from '../src/engines/tfjs/tf-layers/build.js';
import { describe, graphOf } from '../src/zoo/catalog.js';
import { compile } from '../src/engines/tfjs/infer/program.js';
import { Runner } from '../src/engines/tfjs/infer/execute.js';
import { InferencePool } from '../src/engines/tfjs/infer/worker-pool.js';

const perWorker = Number(process.argv[2] ?? 4),
  batch = 16,
  size = 224;
const workers = Math.min(os.availableParallelism(), 8);

/** Images/second of `once` over `n` batches after a warm-up. */
async function timed(n: number, once: () => Promise<void>, warm = once): Promise<number> {
  await warm();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once();
  return (n * batch) / ((performance.now() - t0) / 1000);
}

async function tlr(name: string, width: number | null): Promise<{ layers: number; program: number; pool: number }> {
  await tf.setBackend('wasm');
  const info = describe(name, width, size);
  const graph = graphOf(name, info.width, size);
  const model = buildLayers(graph, info.featureLayer, name, 1);
  const x = tf.randomUniform([batch, size, size, 3], -1, 1);
  const layers = await timed(perWorker, async () => {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  });
  const prog = compile(graph, info.featureLayer, model);
  const runner = new Runner(prog);
  const program = await timed(perWorker, async () => {
    const y = runner.run(x);
    await y.data();
    y.dispose();
  });
  runner.dispose();
  const data = x.dataSync() as Float32Array;
  const pool = await InferencePool.start(workers, 'wasm', prog);
  const wave = (k: number) =>
    Promise.all(Array.from({ length: k }, () => pool.run(data.slice(), x.shape))).then(() => undefined);
  // Every worker warms up (its first batch sets up its kernels); then batches go out `workers` at a time.
  const pooled =
    (await timed(
      1,
      () => wave(workers * perWorker),
      () => wave(workers),
    )) *
    workers *
    perWorker;
  await pool.close();
  x.dispose();
  model.dispose();
  return { layers, program, pool: pooled };
}

function torch(name: string): number | null {
  const py = `
import time, torch, torchvision
torch.set_num_threads(2)
m = getattr(torchvision.models, '${name}')(weights=None).eval()
if hasattr(m, 'fc'): m.fc = torch.nn.Identity()
if hasattr(m, 'classifier'): m.classifier = torch.nn.Identity()
x = torch.rand(${batch}, 3, ${size}, ${size})
with torch.no_grad():
    m(x)
    t = time.perf_counter()
    for _ in range(${workers * perWorker}): m(x)
    print(${workers * perWorker * batch} / (time.perf_counter() - t))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`PyTorch baseline unavailable: ${r.stderr.split('\n').filter(Boolean).pop()}`);
    return null;
  }
  return Number(r.stdout.trim());
}

const f = (v: number) => v.toFixed(1).padStart(6);
console.log(
  `feature extraction at ${size}x${size}, batch ${batch}, images/second (higher is better); ${workers} cores`,
);
console.log(`  network        tf.layers  program  ${workers} workers   PyTorch   workers/PyTorch   workers/tf.layers`);
for (const [name, width, goal] of [
  ['mobilenet_v2', 1, '>= 1.0'],
  ['resnet18', null, '>= 0.67'],
] as const) {
  const ours = await tlr(name, width),
    theirs = torch(name);
  console.log(
    `  ${name.padEnd(13)}  ${f(ours.layers)}   ${f(ours.program)}   ${f(ours.pool)}    ` +
      `${theirs === null ? '   n/a' : f(theirs)}   ` +
      `${theirs ? (ours.pool / theirs).toFixed(2).padStart(5) : '  n/a'} (goal ${goal})   ` +
      `${(ours.pool / ours.layers).toFixed(2).padStart(5)}`,
  );
}
