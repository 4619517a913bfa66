// Feature extraction end to end on both engines against PyTorch at its best, on the same cores, in
// the same run, 3 repetitions: N JPEGs of 320x240 through MobileNet V2 (width 0.35 and 1) at 224 px,
// cold (a fresh TLR_CACHE each time: every image decoded). Each engine: a recipe that freezes the
// whole backbone, timed from its first `features` progress event (its first batch done: start-up
// left out, that batch's images too) to its last (decode, resize, forward, for the training and
// validation images); the tfjs engine runs it on ONNX Runtime. PyTorch: torchvision's mobilenet_v2
// with the same width in eval mode under no_grad, an ImageFolder with Resize((224, 224)) (bilinear,
// antialiased: cheaper than tlr's Lanczos), ToTensor, Normalize, at its best batch (8, 16 or 64) and
// number of DataLoader workers (0 or 2), chosen on the first 128 images; torch threads = cores.
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
def seconds(data, batch, workers):
    t = time.perf_counter()
    with torch.no_grad():
        for x, _ in torch.utils.data.DataLoader(data, batch_size=batch, num_workers=workers):
            m(x)
    return time.perf_counter() - t
# Its best setting, chosen on the first 128 images: on a VM, batches whose activations pass glibc's
# 32 MB mmap threshold ran up to 10x slower than batches of 8.
probe = torch.utils.data.Subset(ds, range(min(128, len(ds))))
batch, workers = min(((b, w) for b in (8, 16, 64) for w in (0, 2)), key=lambda c: seconds(probe, *c))
print(f'{seconds(ds, batch, workers):.3f} {len(ds)} {batch} {workers}')
`;

function plain(dir: string, width: number): { rate: number; setting: string } {
  const r = spawnSync('/usr/bin/python3', ['-c', PLAIN, path.join(dir, 'all'), String(width)], {
    encoding: 'utf8',
    env: { ...process.env, ...KEEP_MALLOC },
  });
  if (r.status) throw new Error(r.stderr);
  const [s, n, batch, workers] = r.stdout.trim().split(' ').map(Number);
  return { rate: n! / s!, setting: `batch ${batch}, ${workers} workers` };
}

async function engine(name: 'torch' | 'tfjs', dir: string, width: number): Promise<number> {
  const plan = planFrom(
    path.join(dir, 'features.tlr'),
    `from mobilenet_v2 width ${width} weights none\nfreeze all\nhead dense(2)\ntrain 1 epochs on ./data\n` +
      'validate on ./val\n',
  );
  const timer = featureTimer();
  await runFresh(name, plan, timer.on);
  return timer.rates().pass;
}

const dir = await data(N);
// PyTorch reads the same images: the training and validation folders together.
allImages(dir);
console.log(`feature extraction, cold, ${N} + 40 JPEGs at 224 px, ${cores} cores, ${REPS} repetitions (images/s)`);
for (const width of [0.35, 1]) {
  const torch: number[] = [],
    tfjs: number[] = [],
    theirs: number[] = [],
    settings: string[] = [];
  for (let r = 0; r < REPS; r++) {
    torch.push(await engine('torch', dir, width));
    tfjs.push(await engine('tfjs', dir, width));
    const p = plain(dir, width);
    theirs.push(p.rate);
    settings.push(p.setting);
  }
  console.log(
    `MobileNet V2 ${width}: torch engine ${stats(torch)} · tfjs engine ${stats(tfjs)} · PyTorch ${stats(theirs)} ` +
      '(min / median / max)',
  );
  for (const [name, ours] of [
    ['torch', torch],
    ['tfjs', tfjs],
  ] as const)
    console.log(`  ${name} engine / PyTorch, per repetition: ${stats(ours.map((v, i) => v / theirs[i]!))}x`);
  console.log(`  PyTorch's best setting per repetition: ${settings.join('; ')}`);
}
