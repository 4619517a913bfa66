// A whole-network training epoch on the torch engine against a plain PyTorch script on the same
// cores, in the same run, 3 repetitions: MobileNet V2 (width 1) at 224 px from scratch, N JPEGs of
// 320x240 (or WxH: a JPEG at least twice 224 px each way is decoded at a reduced size by the engine,
// whole by the script) in two classes, batch 32, Adam, horizontal flips (so every epoch decodes: nothing is
// cached but the decoded pixels). The plain script is what a user would write: torchvision's
// mobilenet_v2, an ImageFolder with Resize((224, 224)), RandomHorizontalFlip, ToTensor, Normalize,
// a DataLoader with 2 workers, torch threads = cores. Epoch seconds: the engine's own (its `epoch`
// event, validation on 8 images included), the script's training loop. The engine's second epoch
// reads decoded pixels from its cache (TLR_CACHE is fresh each repetition).
//   npx tsx bench/torch-epoch.ts [images] [WxH]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { KEEP_MALLOC } from '../src/engines/torch/python.js';
import { cores, data, planFrom, runFresh } from './split-common.js';

const N = Number(process.argv[2] ?? 256),
  [W, H] = (process.argv[3] ?? '320x240').split('x').map(Number) as [number, number],
  REPS = 3;

const PLAIN = `
import sys, time, torch, torchvision
from torchvision import transforms as T
torch.set_num_threads(${cores})
tf = T.Compose([T.Resize((224, 224)), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
ds = torchvision.datasets.ImageFolder(sys.argv[1], tf)
dl = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=True, num_workers=2, persistent_workers=True)
m = torchvision.models.mobilenet_v2(num_classes=2)
opt = torch.optim.Adam(m.parameters(), 1e-3)
m.train()
out = []
for epoch in range(2):
    t = time.perf_counter()
    for x, y in dl:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    out.append(time.perf_counter() - t)
print(' '.join(f'{s:.3f}' for s in out))
`;

function plain(dir: string): number[] {
  const r = spawnSync('/usr/bin/python3', ['-c', PLAIN, path.join(dir, 'data')], {
    encoding: 'utf8',
    env: { ...process.env, ...KEEP_MALLOC },
  });
  if (r.status) throw new Error(r.stderr);
  return r.stdout.trim().split(' ').map(Number);
}

async function engine(dir: string): Promise<number[]> {
  const plan = planFrom(
    path.join(dir, 'epoch.tlr'),
    'from mobilenet_v2 weights none\nhead dense(2)\ntrain 2 epochs on ./data\n  batch 32\n  lr 0.001\naugment flip\n' +
      'validate on ./val8\n',
  );
  const epochs: number[] = [];
  await runFresh('torch', plan, (e) => {
    if (e.type === 'epoch') epochs.push(e.seconds);
  });
  return epochs;
}

const dir = await data(N, W, H);
for (const c of ['a', 'b']) {
  fs.mkdirSync(path.join(dir, 'val8', c), { recursive: true });
  for (let i = 0; i < 4; i++)
    fs.copyFileSync(
      path.join(dir, 'val', c, `img-${c === 'a' ? 2 * i : 2 * i + 1}.jpg`),
      path.join(dir, 'val8', c, `${i}.jpg`),
    );
}
const rows: { tlr: number[]; torch: number[] }[] = [];
for (let r = 0; r < REPS; r++) rows.push({ tlr: await engine(dir), torch: plain(dir) });
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(2)} / ${s[Math.floor(s.length / 2)]!.toFixed(2)} / ${s[s.length - 1]!.toFixed(2)}`;
};
console.log(
  `MobileNet V2 at 224, ${N} JPEGs of ${W}x${H}, batch 32, whole network, ${cores} cores, ${REPS} repetitions`,
);
console.log('epoch seconds (min / median / max)            epoch 1                 epoch 2');
for (const [name, key] of [
  ['torch engine', 'tlr'],
  ['plain PyTorch (DataLoader, 2 workers)', 'torch'],
] as const)
  console.log(
    `${name.padEnd(44)} ${stats(rows.map((r) => r[key][0]!)).padEnd(23)} ${stats(rows.map((r) => r[key][1]!))}`,
  );
for (const e of [0, 1]) {
  const ratios = rows.map((r) => r.torch[e]! / r.tlr[e]!);
  console.log(`epoch ${e + 1}: the torch engine is ${stats(ratios)}x plain PyTorch's speed (min / median / max)`);
}
