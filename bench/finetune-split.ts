// A split fine-tuning stage end to end, against PyTorch on the same cores in the same run:
// ResNet-18 `freeze until block3` at 224 px (random weights: speed does not depend on them), N
// training JPEGs in two classes, two epochs, batch 32, Adam. tlr computes the frozen part once
// (ONNX Runtime) and trains block4 and the head on the cache; PyTorch decodes every epoch (PIL),
// runs stem..layer3 in eval mode under no_grad and trains layer4 + fc.
// The same for MobileNet V2 `freeze until block13` (PyTorch: features[:15] frozen) and DenseNet-121
// `freeze until block3` (features[:10] frozen).
//   npx tsx bench/finetune-split.ts [images] [resnet18 | mobilenet_v2 | densenet121]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { run } from '../src/engines/tfjs/run.js';
import { Events } from '../src/runtime/events.js';
import { cores, data, splitPlan, SPLITS, torch, type SplitNet } from './split-common.js';

const N = Number(process.argv[2] ?? 800),
  NET = (process.argv[3] ?? 'resnet18') as SplitNet;
if (!(NET in SPLITS)) throw new Error(`no split benchmark for ${NET}: ${Object.keys(SPLITS).join(', ')}`);

async function tlr(dir: string): Promise<{ prefix: number; epochs: number[] }> {
  const plan = splitPlan(dir, NET, 2);
  const events = new Events();
  const marks: { type: string; at: number; seconds?: number }[] = [];
  events.on((e) => {
    if (
      e.type === 'stage-start' ||
      e.type === 'epoch' ||
      (e.type === 'features' && e.phase === 'done' && e.split === 'train')
    )
      marks.push({ type: e.type, at: Date.now(), ...(e.type === 'epoch' ? { seconds: e.seconds } : {}) });
  });
  const t0 = Date.now();
  await run({
    plan,
    recipeText: '',
    events,
    env: { ...process.env, TLR_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bench-cache-')) },
  });
  const start = marks.find((m) => m.type === 'stage-start')!.at;
  return { prefix: (start - t0) / 1000, epochs: marks.filter((m) => m.type === 'epoch').map((m) => m.seconds!) };
}

const dir = await data(N);
// PyTorch runs before and after tlr; the faster of each epoch is the baseline. On this VM the same
// PyTorch epochs varied up to 4x from run to run (MobileNet V2: 17-100 s; DenseNet-121: 56-126 s),
// so a single run could flatter tlr.
const before = torch(dir, NET),
  ours = await tlr(dir),
  after = torch(dir, NET);
const theirs = before && after ? before.map((s, i) => Math.min(s, after[i]!)) : (before ?? after);
const ips = (s: number) => (N / s).toFixed(1);
console.log(
  `${SPLITS[NET].recipe.replace(/\n/g, ' ').replace(' weights none', '')}, 224 px, ${N} training images, batch ` +
    `32, ${cores} cores; images/second per epoch (higher is better)`,
);
console.log(
  `  tlr: frozen part once ${ours.prefix.toFixed(1)} s, then epochs ` +
    `${ours.epochs.map((s) => `${s.toFixed(1)} s (${ips(s)} img/s)`).join(', ')}`,
);
if (theirs) {
  console.log(
    `  PyTorch: epochs ${theirs.map((s) => `${s.toFixed(1)} s (${ips(s)} img/s)`).join(', ')} (the faster of a ` +
      `run before tlr's, ${before?.map((s) => s.toFixed(1)).join(' / ')} s, and one after, ` +
      `${after?.map((s) => s.toFixed(1)).join(' / ')} s)`,
  );
  console.log(
    `  first epoch (tlr's including the frozen part once): ` +
      `${(theirs[0]! / (ours.prefix + ours.epochs[0]!)).toFixed(2)}x PyTorch (goal >= 0.5); ` +
      `later epochs: ${(theirs[1]! / ours.epochs[1]!).toFixed(2)}x (goal >= 1.0)`,
  );
}
