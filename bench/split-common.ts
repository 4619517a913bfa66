// The split fine-tuning benchmarks' shared parts: the data set (N training JPEGs in two classes,
// 40 validation ones) and the PyTorch baseline (frozen stem..layer3 in eval mode under no_grad,
// layer4 + fc trained with Adam, images decoded per batch), timed on the same cores.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { KEEP_MALLOC } from '../src/engines/torch/python.js';
import type { tf } from '../src/engines/tfjs/tf.js';
import { compile } from '../src/compiler/index.js';
import type { Plan } from '../src/contracts/plan.js';
import { runEngine } from '../src/engines/index.js';
import { Events, type RunEvent } from '../src/runtime/events.js';
import { loadZooModel } from '../src/engines/tfjs/tf-layers/model.js';
import { joinNetwork, makeHead, setFrozen } from '../src/engines/tfjs/train/network.js';
import { splitFrozen } from '../src/engines/tfjs/train/split-stage.js';

export const cores = os.availableParallelism();

/** N training JPEGs of w x h in two classes, and 40 validation ones, made once and kept in the temp folder. */
export async function data(N: number, w = 320, h = 240): Promise<string> {
  const dir = path.join(os.tmpdir(), `tlr-bench-split-${N}${w === 320 && h === 240 ? '' : `-${w}x${h}`}`);
  for (let i = 0; i < N; i++) {
    const f = path.join(dir, 'data', i % 2 ? 'b' : 'a', `img-${i}.jpg`);
    if (fs.existsSync(f)) continue;
    fs.mkdirSync(path.dirname(f), { recursive: true });
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < px.length; p++)
      px[p] = (128 + 90 * Math.sin((p % (w * 3)) / (17 + (i % 2) * 9)) + ((p * 7 + i) % 29)) & 255;
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(f);
  }
  // A small validation set apart: the epochs compared are training, as PyTorch's loop is.
  for (let i = 0; i < 40; i++) {
    const f = path.join(dir, 'val', i % 2 ? 'b' : 'a', `img-${i}.jpg`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    if (!fs.existsSync(f)) fs.copyFileSync(path.join(dir, 'data', i % 2 ? 'b' : 'a', `img-${i}.jpg`), f);
  }
  return dir;
}

/** The networks the split benchmarks compare, each as tlr's recipe lines and PyTorch's frozen and trained parts. */
export const SPLITS = {
  resnet18: {
    recipe: 'from resnet18 weights none\nfreeze until block3',
    torch: `m = torchvision.models.resnet18(weights=None); m.fc = torch.nn.Linear(512, 2)
frozen = torch.nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3)
top = torch.nn.Sequential(m.layer4, m.avgpool, torch.nn.Flatten(), m.fc)`,
  },
  // tlr's block13 is Keras' block_13, torchvision's features[14] (features[0] is the stem, [1] block0).
  mobilenet_v2: {
    recipe: 'from mobilenet_v2 weights none\nfreeze until block13',
    torch: `m = torchvision.models.mobilenet_v2(weights=None)
frozen = m.features[:15]
top = torch.nn.Sequential(
    m.features[15:], torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(1280, 2))`,
  },
  // tlr's block3 ends with transition3: torchvision's features[:10] (conv0 .. transition3).
  densenet121: {
    recipe: 'from densenet121 weights none\nfreeze until block3',
    torch: `m = torchvision.models.densenet121(weights=None)
frozen = m.features[:10]
top = torch.nn.Sequential(
    m.features[10:], torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(1024, 2))`,
  },
} as const;
export type SplitNet = keyof typeof SPLITS;

/** The plan of `net`'s split stage on the data set in `dir`: a head of 2, `epochs` epochs, batch 32. */
export function splitPlan(dir: string, net: SplitNet, epochs: number): Plan {
  const file = path.join(dir, 'r.tlr');
  fs.writeFileSync(
    file,
    `${SPLITS[net].recipe}\nhead dense(2)\ntrain ${epochs} epoch${epochs === 1 ? '' : 's'} on ./data\n  batch ` +
      `32\nvalidate on ./val\n`,
  );
  return planFrom(file);
}

/** The plan of the recipe in `file` (written there first when `text` is given); its diagnostics thrown without one. */
export function planFrom(file: string, text?: string): Plan {
  if (text !== undefined) fs.writeFileSync(file, text);
  const c = compile(fs.readFileSync(file, 'utf8'), { file });
  if (!c.plan) throw new Error(c.diagnostics.map((d) => d.message).join('\n'));
  return c.plan;
}

/** Runs `plan` on `engine` with a TLR_CACHE of its own (removed after), handing every event to `on`. */
export async function runFresh(
  engine: string,
  plan: Plan,
  on: (e: RunEvent) => void,
  flags: Record<string, string> = {},
): Promise<void> {
  const events = new Events();
  events.on(on);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bench-cache-'));
  try {
    await runEngine(engine, { plan, recipeText: '', events, flags, env: { ...process.env, TLR_CACHE: cache } });
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

/**
 * What ResNet-18 `freeze until block3` trains (block4 and a head of 2), random weights, and the shape it starts from.
 */
export async function resnetTop(): Promise<{ top: tf.LayersModel; input: readonly number[] }> {
  const built = await loadZooModel('resnet18', { inputSize: 224, weights: 'none', seed: 1 });
  const net = joinNetwork(
    built.model,
    makeHead(built.info.featureSize, [{ kind: 'dense', units: 2, activation: 'linear' }], 1),
  );
  const frozen = built.info.blocks.find((b) => b.name === 'block4')!.first;
  setFrozen(net, built.info, frozen);
  const split = splitFrozen(net, built.graph, built.info, frozen)!;
  return { top: split.top, input: split.boundary.shape };
}

/** Seconds of each of PyTorch's two epochs for `net`'s split, or null where it is not installed. */
export function torch(dir: string, net: SplitNet = 'resnet18'): number[] | null {
  const py = `
import time, glob, torch, torchvision, numpy as np
from PIL import Image
torch.set_num_threads(${cores}); torch.manual_seed(0)
files = sorted(glob.glob('${dir}/data/*/*.jpg')); labels = torch.tensor([0 if '/a/' in f else 1 for f in files])
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1); std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
def rgb(f): return torch.from_numpy(np.asarray(Image.open(f).convert('RGB').resize((224, 224), Image.BILINEAR)))
def load(fs): return (torch.stack([rgb(f).permute(2, 0, 1) for f in fs]).float() / 255 - mean) / std
${SPLITS[net].torch}
frozen.eval(); top.train()
for p in frozen.parameters(): p.requires_grad = False
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
  // The malloc settings tlr's torch engine runs with (without them this baseline's epochs took 46-48
  // s here instead of 21-22 s); tlr's own side (wasm's heap, ONNX Runtime's arena) runs the same either way.
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8', env: { ...KEEP_MALLOC, ...process.env } });
  if (r.status !== 0) {
    console.error(`PyTorch baseline unavailable: ${r.stderr.split('\n').filter(Boolean).pop()}`);
    return null;
  }
  return r.stdout.trim().split(/\s+/).map(Number);
}

/**
 * Times a run's features passes from its events: `pass` from the first progress event (the first batch done: start-up
 * and that batch left out) to the last `done`; `cold` from the int8 calibration's start when there is one (every image
 * counted), else as `pass`. Images/second.
 */
export function featureTimer() {
  let calibrating = 0,
    start = 0,
    end = 0,
    images = 0,
    first = 0;
  return {
    on: (e: RunEvent): void => {
      if (e.type !== 'features') return;
      if (e.phase === 'computing' && !calibrating) calibrating = performance.now();
      if (!start && e.phase === 'progress') {
        start = performance.now();
        first = e.done ?? 0;
      }
      if (e.phase === 'done') {
        end = performance.now();
        images += e.total ?? 0;
      }
    },
    rates: () => {
      const pass = (images - first) / ((end - start) / 1000);
      return { pass, cold: calibrating ? images / ((end - calibrating) / 1000) : pass };
    },
  };
}

/** The training and validation images together in DIR/all, for PyTorch's ImageFolder. */
export function allImages(dir: string): void {
  for (const part of ['data', 'val'])
    for (const c of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, 'all', c), { recursive: true });
      for (const f of fs.readdirSync(path.join(dir, part, c)))
        fs.copyFileSync(path.join(dir, part, c, f), path.join(dir, 'all', c, `${part}-${f}`));
    }
}

/** min / median / max, two decimals. */
export const stats = (xs: readonly number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(2)} / ${s[Math.floor(s.length / 2)]!.toFixed(2)} / ${s[s.length - 1]!.toFixed(2)}`;
};
