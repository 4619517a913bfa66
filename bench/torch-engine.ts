import * as path from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';

type EngineName = 'tfjs' | 'torch';
import { cores, data, planFrom, runFresh, torch } from './split-common.js';

const N = Number(process.argv[2] ?? 800),
  withTfjs = !process.argv.includes('--no-tfjs');

/** Seconds of each epoch and of the whole run, on `engine`. */
async function timed(dir: string, engine: EngineName, nproc = 1): Promise<{ epochs: number[]; total: number }> {
  const plan = planFrom(
    path.join(dir, 'r.tlr'),
    'from resnet18 weights none\nfreeze until block3\nhead dense(2)\ntrain 2 epochs on ./data\n  batch ' +
      '32\nvalidate on ./val\n',
  );
  const epochs: number[] = [];
  const t0 = Date.now();
  await runFresh(
    engine,
    plan,
    (e) => {
      if (e.type === 'epoch') epochs.push(e.seconds);
    },
    engine === 'torch' ? { nproc: String(nproc) } : {},
  );
  return { epochs, total: (Date.now() - t0) / 1000 };
}

const dir = await data(N);
const ips = (s: number) => `${(N / s).toFixed(1)} img/s`;
const line = (name: string, r: { epochs: number[]; total: number }) =>
  console.log(
    `  ${name.padEnd(26)} epochs ${r.epochs.map((s) => `${s.toFixed(1)} s (${ips(s)})`).join(', ')} · whole run ` +
      `${r.total.toFixed(1)} s`,
  );
console.log(`ResNet-18 freeze until block3, 224 px, ${N} training images, batch 32, 2 epochs, ${cores} cores`);
const one = await timed(dir, 'torch', 1);
line('torch engine, 1 process', one);
const two = await timed(dir, 'torch', 2);
line('torch engine, 2 processes', two);
const base = torch(dir);
if (base)
  console.log(
    `  ${'plain PyTorch (baseline)'.padEnd(26)} epochs ${base.map((s) => `${s.toFixed(1)} s (${ips(s)})`).join(', ')}`,
  );
const tfjs = withTfjs ? await timed(dir, 'tfjs') : null;
if (tfjs) line('tfjs engine', tfjs);
const r = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
console.log('ratios (higher is faster):');
if (base) {
  const b = base[0]! + base[1]!;
  console.log(
    `  torch engine vs plain PyTorch, per epoch: 1 process ` +
      `${one.epochs.map((s, i) => r(base[i]!, s)).join(', ')}; 2 processes ` +
      `${two.epochs.map((s, i) => r(base[i]!, s)).join(', ')}`,
  );
  console.log(
    `  torch engine vs plain PyTorch's two epochs, whole run (start, weights, frozen part once, both epochs, ` +
      `validation, test): 1 process ${r(b, one.total)}, 2 processes ${r(b, two.total)}`,
  );
}
console.log(`  2 processes vs 1, whole run: ${r(one.total, two.total)}`);
if (tfjs)
  console.log(
    `  torch engine (1 process) vs tfjs engine, whole run: ${r(tfjs.total, one.total)} (goal >= 4); epoch 1: ` +
      `${r(tfjs.epochs[0]!, one.epochs[0]!)}, epoch 2: ${r(tfjs.epochs[1]!, one.epochs[1]!)}`,
  );

// Per-image costs on this machine (PyTorch, every core), for docs/engines/torch.md's estimate of an
// ImageNet-size run: decoding and resizing one JPEG on one core, and ResNet-18 at 224 px forward
// only (a frozen part, an evaluation) and forward + backward of the whole network (training it all).
const costs = spawnSync(
  '/usr/bin/python3',
  [
    '-c',
    `
import glob, time, torch, torchvision, numpy as np
from PIL import Image
files = sorted(glob.glob('${dir}/data/*/*.jpg'))[:96]
t = time.perf_counter()
for f in files: np.asarray(Image.open(f).convert('RGB').resize((224, 224), Image.LANCZOS))
decode = (time.perf_counter() - t) / len(files)
torch.set_num_threads(${cores}); m = torchvision.models.resnet18(weights=None); x = torch.randn(32, 3, 224, 224)
with torch.no_grad():
    m.eval(); m(x); t = time.perf_counter(); m(x); m(x); fwd = (time.perf_counter() - t) / 64
m.train(); opt = torch.optim.SGD(m.parameters(), 0.01)
t = time.perf_counter()
for _ in range(2): opt.zero_grad(); m(x).sum().backward(); opt.step()
train = (time.perf_counter() - t) / 64
print(decode * 1000, fwd * 1000, train * 1000)
`,
  ],
  { encoding: 'utf8' },
);
if (costs.status === 0) {
  const [decode, fwd, train] = costs.stdout.trim().split(/\s+/).map(Number) as [number, number, number];
  console.log(
    `per-image costs here: decode + resize ${decode.toFixed(1)} ms on one core; ResNet-18 224 px forward ` +
      `${fwd.toFixed(1)} ms, forward + backward + update ${train.toFixed(1)} ms (${cores} cores)`,
  );
  const imagenet = 1_281_167;
  console.log(
    `  so one ImageNet epoch here: decoding ${((imagenet * decode) / 1000 / cores / 3600).toFixed(1)} h on ` +
      `${cores} cores; training all of ResNet-18 ${((imagenet * train) / 1000 / 3600).toFixed(1)} h`,
  );
}
