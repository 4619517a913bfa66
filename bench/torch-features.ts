// Feature extraction end to end on the torch engine against PyTorch at its best, on the same cores,
// in the same run, 3 repetitions: N JPEGs of 320x240 through MobileNet V2 (width 0.35 and 1) at
// 224 px, cold (a fresh TLR_CACHE each time: every image decoded). The engine: a recipe that freezes
// the whole backbone, timed from its first `features` progress event (its first batch done: Python's
// start-up left out, that batch's images too) to its last (decode, resize, forward, for the training
// and validation images). PyTorch: torchvision's mobilenet_v2
// with the same width in eval mode under no_grad, an ImageFolder with Resize((224, 224)) (bilinear,
// antialiased: cheaper than tlr's Lanczos), ToTensor, Normalize, batch 64, with 0 and with 2
// DataLoader workers, the faster taken; torch threads = cores.
//   npx tsx bench/torch-features.ts [images]
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { KEEP_MALLOC } from '../src/engines/torch/python.js';
import { allImages, cores, data, featureTimer, planFrom, runFresh, stats } from './split-common.js';

const N = Number(process.argv[2] ?? 400),
  REPS = 3;

const PLAIN = `
import sys, time, torch, torchvision
from torchvision import transforms as T
torch.set_num_threads(${cores})
tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
ds = torchvision.datasets.ImageFolder(sys.argv[1], tf)
m = torchvision.models.mobilenet_v2(width_mult=float(sys.argv[2])).eval()
m.classifier = torch.nn.Identity()
best = None
for workers in (0, 2):
    dl = torch.utils.data.DataLoader(ds, batch_size=64, num_workers=workers)
    t = time.perf_counter()
    with torch.no_grad():
        for x, _ in dl:
            m(x)
    s = time.perf_counter() - t
    best = s if best is None else min(best, s)
print(f'{best:.3f} {len(ds)}')
`;

function plain(dir: string, width: number): number {
  const r = spawnSync('/usr/bin/python3', ['-c', PLAIN, path.join(dir, 'all'), String(width)], {
    encoding: 'utf8',
    env: { ...process.env, ...KEEP_MALLOC },
  });
  if (r.status) throw new Error(r.stderr);
  const [s, n] = r.stdout.trim().split(' ').map(Number);
  return n! / s!;
}

async function engine(dir: string, width: number): Promise<number> {
  const plan = planFrom(
    path.join(dir, 'features.tlr'),
    `from mobilenet_v2 width ${width} weights none\nfreeze all\nhead dense(2)\ntrain 1 epochs on ./data\n` +
      'validate on ./val\n',
  );
  const timer = featureTimer();
  await runFresh('torch', plan, timer.on);
  return timer.rates().pass;
}

const dir = await data(N);
// PyTorch reads the same images: the training and validation folders together.
allImages(dir);
console.log(`feature extraction, cold, ${N} + 40 JPEGs at 224 px, ${cores} cores, ${REPS} repetitions (images/s)`);
for (const width of [0.35, 1]) {
  const ours: number[] = [],
    theirs: number[] = [];
  for (let r = 0; r < REPS; r++) {
    ours.push(await engine(dir, width));
    theirs.push(plain(dir, width));
  }
  console.log(`MobileNet V2 ${width}: torch engine ${stats(ours)} · PyTorch ${stats(theirs)} (min / median / max)`);
  console.log(`  ratio per repetition: ${stats(ours.map((v, i) => v / theirs[i]!))}x`);
}
