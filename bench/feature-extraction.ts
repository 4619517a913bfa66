// Feature extraction, images/second, tlr (TensorFlow.js, wasm) against PyTorch on this machine
// (Debian's python3-torch: 2 threads, eval mode, no_grad), same network, input and batch, in the
// same run.   npx tsx bench/feature-extraction.ts [batches]
import { spawnSync } from 'node:child_process';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../src/runtime/tf.js';
import { buildLayers } from '../src/runtime/zoo/build.js';
import { describe, graphOf } from '../src/zoo/catalog.js';

const batches = Number(process.argv[2] ?? 4), batch = 16;

async function tlr(name: string, width: number | null): Promise<number> {
  await tf.setBackend('wasm');
  const info = describe(name, width, 224);
  const model = buildLayers(graphOf(name, info.width, 224), info.featureLayer, name, 1);
  const x = tf.randomUniform([batch, 224, 224, 3], -1, 1);
  const once = async () => { const y = model.predict(x) as tf.Tensor; await y.data(); y.dispose(); };
  await once();
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) await once();
  const ips = (batches * batch) / ((performance.now() - t0) / 1000);
  x.dispose();
  model.dispose();
  return ips;
}

function torch(name: string): number | null {
  const py = `
import time, torch, torchvision
torch.set_num_threads(2)
m = getattr(torchvision.models, '${name}')(weights=None).eval()
m.fc = torch.nn.Identity() if hasattr(m, 'fc') else None
if '${name}'.startswith('mobilenet'): m.classifier = torch.nn.Identity()
x = torch.rand(${batch}, 3, 224, 224)
with torch.no_grad():
    m(x)
    t = time.perf_counter()
    for _ in range(${batches}): m(x)
    print(${batches * batch} / (time.perf_counter() - t))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  if (r.status !== 0) { console.error(`PyTorch baseline unavailable: ${r.stderr.split('\n').filter(Boolean).pop()}`); return null; }
  return Number(r.stdout.trim());
}

console.log(`feature extraction at 224x224, batch ${batch}, ${batches} batches after a warm-up (images/second, higher is better)`);
for (const [name, width, tv, goal] of [['mobilenet_v2', 1, 'mobilenet_v2', '>= 1.0'], ['resnet18', null, 'resnet18', '>= 0.67']] as const) {
  const ours = await tlr(name, width), theirs = torch(tv);
  console.log(`  ${name.padEnd(13)} tlr wasm ${ours.toFixed(1).padStart(6)}   PyTorch 2 threads ${theirs === null ? '   n/a' : theirs.toFixed(1).padStart(6)}   ratio ${theirs ? (ours / theirs).toFixed(2) : 'n/a'} (goal ${goal})`);
}
