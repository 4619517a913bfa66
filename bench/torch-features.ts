// Feature extraction end to end on both engines against PyTorch at its best, on the same cores, in
// the same run, 3 repetitions: N JPEGs of 320x240 (or WxH) through MobileNet V2 (width 0.35 and 1, or
// the widths given) at 224 px,
// cold (a fresh TLR_CACHE each time: every image decoded). Each engine: a recipe that freezes the
// whole backbone, timed from its first `features` progress event (its first batch done: start-up
// left out, that batch's images too) to its last (decode, resize, forward, for the training and
// validation images); the tfjs engine runs it on ONNX Runtime. PyTorch: torchvision's mobilenet_v2
// with the same width in eval mode under no_grad, an ImageFolder with Resize((224, 224)) (bilinear,
// antialiased: cheaper than tlr's Lanczos), ToTensor, Normalize, under inference_mode, at its best
// batch (8, 16 or 64), number of DataLoader workers (0 or 2) and memory format (contiguous or
// channels-last): the two fastest on the first 64 images, both timed each repetition, the faster
// counted; torch threads = cores.
// A JPEG at least twice 224 px each way is decoded at a reduced size by both engines (tlr-lanczos3/3);
// PyTorch's Resize decodes it whole, as torchvision does.
//   npx tsx bench/torch-features.ts [images] [WxH] [widths, comma-separated]
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { KEEP_MALLOC } from '../src/engines/torch/python.js';
import { allImages, cores, data, featureTimer, planFrom, runFresh, stats } from './split-common.js';

const N = Number(process.argv[2] ?? 400),
  [W, H] = (process.argv[3] ?? '320x240').split('x').map(Number) as [number, number],
  WIDTHS = (process.argv[4] ?? '0.35,1').split(',').map(Number),
  REPS = 3;

const PLAIN = `
import sys, time, torch, torchvision
from torchvision import transforms as T
torch.set_num_threads(${cores})
tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
ds = torchvision.datasets.ImageFolder(sys.argv[1], tf)
m = torchvision.models.mobilenet_v2(width_mult=float(sys.argv[2])).eval()
m.classifier = torch.nn.Identity()
def seconds(data, batch, workers, last):
    fmt = torch.channels_last if last else torch.contiguous_format
    net = m.to(memory_format=fmt)
    t = time.perf_counter()
    with torch.inference_mode():
        for x, _ in torch.utils.data.DataLoader(data, batch_size=batch, num_workers=workers):
            net(x.contiguous(memory_format=fmt))
    return time.perf_counter() - t
# Its best settings, the two fastest on the first 64 images in the first repetition (then given), each
# timed on every image in every repetition, the faster counted: on a VM, batches whose activations
# pass glibc's 32 MB mmap threshold ran up to 10x slower than batches of 8 (and batch 16 swung
# between the two), and channels-last ran MobileNet V2 35-40% faster on this CPU.
if len(sys.argv) > 3:
    settings = [tuple(int(v) for v in c.split(',')) for c in sys.argv[3].split(';')]
else:
    probe = torch.utils.data.Subset(ds, range(min(64, len(ds))))
    grid = [(b, w, f) for b in (8, 16, 64) for w in (0, 2) for f in (0, 1)]
    settings = sorted(grid, key=lambda c: seconds(probe, *c))[:2]
best = min(seconds(ds, *c) for c in settings)
print(f'{best:.3f} {len(ds)} ' + ';'.join(','.join(map(str, c)) for c in settings))
`;

/** PyTorch's images/s, and its two settings (batch,workers,channels-last;…) as found, or as given. */
function plain(dir: string, width: number, given?: string): { rate: number; setting: string } {
  const args = ['-c', PLAIN, path.join(dir, 'all'), String(width), ...(given ? [given] : [])];
  const r = spawnSync('/usr/bin/python3', args, {
    encoding: 'utf8',
    env: { ...process.env, ...KEEP_MALLOC },
  });
  if (r.status) throw new Error(r.stderr);
  const [s, n, setting] = r.stdout.trim().split(' ');
  return { rate: Number(n) / Number(s), setting: setting! };
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

const dir = await data(N, W, H);
// PyTorch reads the same images: the training and validation folders together.
allImages(dir);
console.log(
  `feature extraction, cold, ${N} + 40 JPEGs of ${W}x${H} at 224 px, ${cores} cores, ${REPS} repetitions (images/s)`,
);
for (const width of WIDTHS) {
  const torch: number[] = [],
    tfjs: number[] = [],
    theirs: number[] = [],
    settings: string[] = [];
  for (let r = 0; r < REPS; r++) {
    torch.push(await engine('torch', dir, width));
    tfjs.push(await engine('tfjs', dir, width));
    const p = plain(dir, width, settings[0]);
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
  const said = settings[0]!.split(';').map((c) => {
    const [batch, workers, last] = c.split(',');
    return `batch ${batch}, ${workers} workers, ${last === '1' ? 'channels-last' : 'contiguous'}`;
  });
  console.log(`  PyTorch's two best settings on the probe (the faster counted each time): ${said.join('; ')}`);
}
