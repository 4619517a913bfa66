// Feature extraction end to end with `features int8` on the tfjs engine, against the same recipe in float and against
// PyTorch at its best, on the same cores, in the same run, 3 repetitions: N JPEGs of 320x240 (and 40 validation ones)
// through a frozen network at 224 px, cold (a fresh TLR_CACHE each time: every image decoded, the int8 network
// calibrated again). tlr: `tlr run` of `freeze all` with random weights (`weights none`), timed two ways:
//   - the pass: from its first `features` progress event (the first batch done) to the last `done`, as
//     bench/torch-features.ts times the torch engine;
//   - with calibration: from the calibration's start (int8) or the first batch's (float) to the last `done`: what a
//     cold run pays; the calibration (200 training images, Percentile: two passes) is a fixed cost per run.
// PyTorch: torchvision's network in eval mode under inference_mode, channels-last, an ImageFolder with
// Resize((224, 224)) (bilinear, antialiased: cheaper than tlr's Lanczos), ToTensor, Normalize, with 0 and with 2
// DataLoader workers, the faster taken; torch threads = cores; glibc's malloc told to keep freed memory (KEEP_MALLOC).
// Batch 16: measured here, PyTorch ran MobileNet V2 at 146-212 images/s with batch 16 and 16-18 with batch 64, whose
// larger activations glibc maps afresh on every call (past its 32 MB mmap ceiling), paying every page again.
//   npx tsx bench/int8-features.ts [images] [networks, comma-separated]
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import '@tensorflow/tfjs-backend-wasm';
import { KEEP_MALLOC } from '../src/engines/torch/python.js';
import { allImages, cores, data, featureTimer, planFrom, runFresh, stats } from './split-common.js';

const N = Number(process.argv[2] ?? 300),
  NETS = (process.argv[3] ?? 'resnet50,resnet18,mobilenet_v2').split(','),
  REPS = 3;

const PLAIN = `
import sys, time, torch, torchvision
from torchvision import transforms as T
torch.set_num_threads(${cores})
tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
ds = torchvision.datasets.ImageFolder(sys.argv[1], tf)
m = getattr(torchvision.models, sys.argv[2])().eval().to(memory_format=torch.channels_last)
if hasattr(m, 'fc'): m.fc = torch.nn.Identity()
if hasattr(m, 'classifier'): m.classifier = torch.nn.Identity()
best = None
for workers in (0, 2):
    dl = torch.utils.data.DataLoader(ds, batch_size=16, num_workers=workers)
    t = time.perf_counter()
    with torch.inference_mode():
        for x, _ in dl:
            m(x.contiguous(memory_format=torch.channels_last))
    s = time.perf_counter() - t
    best = s if best is None else min(best, s)
print(f'{best:.3f} {len(ds)}')
`;

function pytorch(dir: string, net: string): number {
  const r = spawnSync('/usr/bin/python3', ['-c', PLAIN, path.join(dir, 'all'), net], {
    encoding: 'utf8',
    env: { ...process.env, ...KEEP_MALLOC },
  });
  if (r.status) throw new Error(r.stderr);
  const [s, n] = r.stdout.trim().split(' ').map(Number);
  return n! / s!;
}

/** tlr's rates: the pass alone, and with the calibration before it (images/s). */
async function tlr(dir: string, net: string, int8: boolean): Promise<{ pass: number; cold: number }> {
  const plan = planFrom(
    path.join(dir, `features-${int8 ? 'int8' : 'float'}.tlr`),
    `from ${net} weights none\n${int8 ? 'features int8\n' : ''}freeze all\nhead dense(2)\n` +
      'train 1 epoch on ./data\nvalidate on ./val\n',
  );
  const timer = featureTimer();
  await runFresh('tfjs', plan, timer.on);
  return timer.rates();
}

const dir = await data(N);
allImages(dir);
console.log(
  `feature extraction end to end, cold, ${N} + 40 JPEGs (320x240) at 224 px, ${cores} cores, ${REPS} repetitions; ` +
    'images/s and ratios as min / median / max',
);
for (const net of NETS) {
  const rows = { int8: [] as number[], int8cold: [] as number[], fp32: [] as number[], torch: [] as number[] };
  for (let r = 0; r < REPS; r++) {
    const a = await tlr(dir, net, true),
      b = await tlr(dir, net, false);
    rows.int8.push(a.pass);
    rows.int8cold.push(a.cold);
    rows.fp32.push(b.pass);
    rows.torch.push(pytorch(dir, net));
  }
  const ratio = (xs: number[], ys: number[]) => stats(xs.map((v, i) => v / ys[i]!));
  console.log(`${net}:`);
  console.log(`  tlr int8: the pass ${stats(rows.int8)}; with calibration ${stats(rows.int8cold)}`);
  console.log(`  tlr float ${stats(rows.fp32)} · PyTorch ${stats(rows.torch)}`);
  console.log(
    `  int8 / PyTorch: the pass ${ratio(rows.int8, rows.torch)}x; with calibration ` +
      `${ratio(rows.int8cold, rows.torch)}x · int8 / float ${ratio(rows.int8, rows.fp32)}x`,
  );
}
