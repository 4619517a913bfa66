// Feature extraction end to end, cold cache: decode and resize 1,000 JPEGs at 224 px, run the
// backbone, write the cache file. tlr (ONNX Runtime, and its TensorFlow.js programs for reference)
// against PyTorch on the same cores (Debian's python3-torch: PIL decode + resize, eval, no_grad,
// torch.set_num_threads = cores), measured in the same run. Also each side's decode-only rate, to
// show where decoding is the limit. (The TF.js column is measured on 200 of the images.)
//   npx tsx bench/features-e2e.ts [images] [networks, comma-separated]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import '@tensorflow/tfjs-backend-wasm';
import { chooseBackend } from '../src/engines/tfjs/backend.js';
import { buildLayers } from '../src/engines/tfjs/tf-layers/build.js';
import { describe, graphOf } from '../src/zoo/catalog.js';
import { compile } from '../src/engines/tfjs/infer/program.js';
import { features } from '../src/engines/tfjs/train/features.js';
import { ImageSource } from '../src/engines/tfjs/train/batch-sources.js';
import { OrtEngine } from '../src/engines/tfjs/onnx/runtime.js';
import { startEngine } from '../src/engines/tfjs/infer/engine.js';
import type { Item } from '../src/runtime/images/dataset.js';
import { benchImages } from './jpegs.js';

const N = Number(process.argv[2] ?? 1000);
const NETS = (process.argv[3] ?? 'resnet18,resnet50,mobilenet_v2').split(',');
const cores = os.availableParallelism(),
  batch = 32,
  size = 224;
const GOALS: Record<string, number> = { resnet18: 1.5, resnet50: 1.5, mobilenet_v2: 3 };

async function tlr(name: string, files: string[], engine: 'onnx' | 'tfjs'): Promise<number> {
  const info = describe(name, null, size);
  const graph = graphOf(name, info.width, size);
  const model = buildLayers(graph, info.featureLayer, name, 1);
  const program = compile(graph, info.featureLayer, model);
  model.dispose();
  const items: Item[] = files.map((p) => ({ kind: 'file', path: p, label: 0 }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bench-cache-'));
  const t0 = performance.now();
  const run = engine === 'onnx' ? await OrtEngine.start(program, cores) : await startEngine(program, cores, 'wasm');
  const r = await features({
    dir,
    key: 'bench',
    items,
    inputSize: size,
    pre: info.preprocessing,
    batch,
    backbone: async () => run,
    onUnreadable: () => undefined,
    onProgress: () => undefined,
  });
  const s = (performance.now() - t0) / 1000;
  await run.close();
  r.features.x?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  return files.length / s;
}

/** tlr's decoding alone (sharp, resize, normalise), images/second. */
async function tlrDecode(files: string[]): Promise<number> {
  const src = new ImageSource(
    files.map((p) => ({ kind: 'file', path: p, label: 0 })),
    size,
    { mean: [0, 0, 0], std: [1, 1, 1] },
    [],
    () => undefined,
  );
  const t0 = performance.now();
  for await (const b of src.batches(batch, false, 0)) b.x.dispose();
  return files.length / ((performance.now() - t0) / 1000);
}

function torch(name: string, files: string[]): { e2e: number; decode: number } | null {
  const list = path.join(os.tmpdir(), 'tlr-bench-files.txt');
  fs.writeFileSync(list, files.join('\n'));
  const py = `
import sys, time, os, tempfile, numpy as np, torch, torchvision
from PIL import Image
torch.set_num_threads(${cores})
files = open('${list}').read().split('\\n')
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1); std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
def load(fs):
    rgb = [np.asarray(Image.open(f).convert('RGB').resize((${size}, ${size}), Image.BILINEAR)) for f in fs]
    x = torch.stack([torch.from_numpy(a).permute(2, 0, 1) for a in rgb]).float() / 255
    return (x - mean) / std
m = getattr(torchvision.models, '${name}')(weights=None).eval()
if hasattr(m, 'fc'): m.fc = torch.nn.Identity()
if hasattr(m, 'classifier'): m.classifier = torch.nn.Identity()
with torch.no_grad():
    m(load(files[:${batch}]))
    t = time.perf_counter(); out = []
    for i in range(0, len(files), ${batch}): out.append(m(load(files[i:i + ${batch}])).numpy())
    np.save(os.path.join(tempfile.mkdtemp(), 'f.npy'), np.concatenate(out))
    e2e = len(files) / (time.perf_counter() - t)
t = time.perf_counter()
for i in range(0, len(files), ${batch}): load(files[i:i + ${batch}])
print(e2e, len(files) / (time.perf_counter() - t))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`PyTorch baseline unavailable: ${r.stderr.split('\n').filter(Boolean).pop()}`);
    return null;
  }
  const [e2e, decode] = r.stdout.trim().split(/\s+/).map(Number);
  return { e2e: e2e!, decode: decode! };
}

await chooseBackend('wasm');
const files = await benchImages(N);
const f = (v: number | null) => (v === null ? '   n/a' : v.toFixed(1).padStart(6));
const decode = await tlrDecode(files);
console.log(
  `feature extraction end to end, cold cache: ${N} JPEGs (320x240) at ${size}x${size}, batch ${batch}, ${cores} ` +
    `cores, images/second`,
);
console.log(`decoding alone: tlr (sharp) ${f(decode)}`);
console.log(
  `  network        tlr ONNX Runtime   tlr TF.js programs   PyTorch   ONNX/PyTorch (goal)   PyTorch decoding alone`,
);
for (const name of NETS) {
  const onnx = await tlr(name, files, 'onnx');
  // TF.js programs are a reference only, and slow: their rate on the first 200 images.
  const tfjs = await tlr(name, files.slice(0, 200), 'tfjs');
  const t = torch(name, files);
  const ratio = t ? (onnx / t.e2e).toFixed(2) : 'n/a';
  console.log(
    `  ${name.padEnd(13)}  ${f(onnx)}             ${f(tfjs)}               ${f(t?.e2e ?? null)}    ` +
      `${ratio.padStart(5)} (>= ${GOALS[name] ?? '-'})         ${f(t?.decode ?? null)}`,
  );
}
