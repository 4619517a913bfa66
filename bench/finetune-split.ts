// A split fine-tuning stage end to end, against PyTorch on the same cores in the same run:
// ResNet-18 `freeze until block3` at 224 px (random weights: speed does not depend on them), N
// training JPEGs in two classes, two epochs, batch 32, Adam. tlr computes the frozen part once
// (ONNX Runtime) and trains block4 and the head on the cache; PyTorch decodes every epoch (PIL),
// runs stem..layer3 in eval mode under no_grad and trains layer4 + fc.
//   npx tsx bench/finetune-split.ts [images]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import '@tensorflow/tfjs-backend-wasm';
import { compile } from '../src/compiler/index.js';
import { run } from '../src/runtime/run.js';
import { Events } from '../src/runtime/events.js';

const N = Number(process.argv[2] ?? 800), cores = os.availableParallelism();

async function data(): Promise<string> {
  const dir = path.join(os.tmpdir(), `tlr-bench-split-${N}`);
  for (let i = 0; i < N; i++) {
    const f = path.join(dir, 'data', i % 2 ? 'b' : 'a', `img-${i}.jpg`);
    if (fs.existsSync(f)) continue;
    fs.mkdirSync(path.dirname(f), { recursive: true });
    const w = 320, h = 240, px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < px.length; p++) px[p] = (128 + 90 * Math.sin((p % (w * 3)) / (17 + (i % 2) * 9)) + ((p * 7 + i) % 29)) & 255;
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(f);
  }
  // A small validation set apart: the epochs compared are training, as PyTorch's loop is.
  for (let i = 0; i < 40; i++) {
    const f = path.join(dir, 'val', i % 2 ? 'b' : 'a', `img-${i}.jpg`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    if (!fs.existsSync(f)) fs.copyFileSync(path.join(dir, 'data', i % 2 ? 'b' : 'a', `img-${i}.jpg`), f);
  }
  return dir;
}

async function tlr(dir: string): Promise<{ prefix: number; epochs: number[] }> {
  const file = path.join(dir, 'r.tlr');
  fs.writeFileSync(file, 'from resnet18 weights none\nfreeze until block3\nhead dense(2)\ntrain 2 epochs on ./data\n  batch 32\nvalidate on ./val\n');
  const c = compile(fs.readFileSync(file, 'utf8'), { file });
  if (!c.plan) throw new Error(c.diagnostics.map((d) => d.message).join('\n'));
  const events = new Events();
  const marks: { type: string; at: number; seconds?: number }[] = [];
  events.on((e) => { if (e.type === 'stage-start' || e.type === 'epoch' || (e.type === 'features' && e.phase === 'done' && e.split === 'train')) marks.push({ type: e.type, at: Date.now(), ...(e.type === 'epoch' ? { seconds: e.seconds } : {}) }); });
  const t0 = Date.now();
  await run({ plan: c.plan, recipeText: '', events, env: { ...process.env, TLR_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bench-cache-')) } });
  const start = marks.find((m) => m.type === 'stage-start')!.at;
  return { prefix: (start - t0) / 1000, epochs: marks.filter((m) => m.type === 'epoch').map((m) => m.seconds!) };
}

function torch(dir: string): number[] | null {
  const py = `
import time, glob, torch, torchvision, numpy as np
from PIL import Image
torch.set_num_threads(${cores}); torch.manual_seed(0)
files = sorted(glob.glob('${dir}/data/*/*.jpg')); labels = torch.tensor([0 if '/a/' in f else 1 for f in files])
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1); std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
def load(fs): return (torch.stack([torch.from_numpy(np.asarray(Image.open(f).convert('RGB').resize((224, 224), Image.BILINEAR))).permute(2, 0, 1) for f in fs]).float() / 255 - mean) / std
m = torchvision.models.resnet18(weights=None); m.fc = torch.nn.Linear(512, 2)
frozen = torch.nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3).eval()
for p in frozen.parameters(): p.requires_grad = False
top = torch.nn.Sequential(m.layer4, m.avgpool, torch.nn.Flatten(), m.fc).train()
opt = torch.optim.Adam(top.parameters(), 1e-3)
out = []
for epoch in range(2):
    t = time.perf_counter(); order = torch.randperm(len(files))
    for i in range(0, len(files), 32):
        idx = order[i:i + 32]; x = load([files[j] for j in idx])
        with torch.no_grad(): x = frozen(x)
        loss = torch.nn.functional.cross_entropy(top(x), labels[idx]); opt.zero_grad(); loss.backward(); opt.step()
    out.append(time.perf_counter() - t)
print(*out)
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  if (r.status !== 0) { console.error(`PyTorch baseline unavailable: ${r.stderr.split('\n').filter(Boolean).pop()}`); return null; }
  return r.stdout.trim().split(/\s+/).map(Number);
}

const dir = await data();
const ours = await tlr(dir), theirs = torch(dir);
const ips = (s: number) => (N / s).toFixed(1);
console.log(`ResNet-18 freeze until block3, 224 px, ${N} training images, batch 32, ${cores} cores; images/second per epoch (higher is better)`);
console.log(`  tlr: frozen part once ${ours.prefix.toFixed(1)} s, then epochs ${ours.epochs.map((s) => `${s.toFixed(1)} s (${ips(s)} img/s)`).join(', ')}`);
if (theirs) {
  console.log(`  PyTorch: epochs ${theirs.map((s) => `${s.toFixed(1)} s (${ips(s)} img/s)`).join(', ')}`);
  console.log(`  first epoch (tlr's including the frozen part once): ${(theirs[0]! / (ours.prefix + ours.epochs[0]!)).toFixed(2)}x PyTorch (goal >= 0.5); later epochs: ${(theirs[1]! / ours.epochs[1]!).toFixed(2)}x (goal >= 1.0)`);
}
