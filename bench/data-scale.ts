// Data at scale: `tlr check`, `tlr plan`, and a run's start (listing, splitting, the feature cache's
// key over every image) on folders of 10k, 100k and 1M tiny generated PNGs on local disk; time and
// peak memory for each. The key is measured cold (every file hashed) and warm (the stat index of
// runtime/data/file-digests.ts read back, as a second run start does); the baseline in the same run is
// torchvision's ImageFolder listing the same folder (Debian's python3-torchvision).
//   npx tsx bench/data-scale.ts [sizes, comma-separated; default 10000,100000]
// The folders are kept in the temp folder (tlr-scale-N) between runs; 1000000 takes a few minutes to make.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

const CLASSES = ['a', 'b', 'c', 'd'];
const ROOT = path.resolve(import.meta.dirname, '..');

/** The folder of N tiny PNGs (8x8, each with its own bytes), made once. */
async function folder(n: number): Promise<string> {
  const dir = path.join(os.tmpdir(), `tlr-scale-${n}`);
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  const base = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 99, b: 199 } } })
    .png()
    .toBuffer();
  for (const c of CLASSES) fs.mkdirSync(path.join(dir, 'data', c), { recursive: true });
  for (let i = 0; i < n; i++) {
    const bytes = Buffer.from(base);
    bytes.writeUInt32BE(i, bytes.length - 20); // inside the IDAT's data: files differ, not all decodable (unused here)
    fs.writeFileSync(path.join(dir, 'data', CLASSES[i % 4]!, `${String(i).padStart(7, '0')}.png`), bytes);
  }
  fs.writeFileSync(
    path.join(dir, 'r.tlr'),
    'from mobilenet_v1 width 0.25 input 32\nhead dense(4)\ntrain 1 epoch on ./data\nsplit 80/10/10\n',
  );
  // The stat index trusts only files 2 s older than their hashing.
  await new Promise((r) => setTimeout(r, 2100));
  fs.writeFileSync(done, '');
  return dir;
}

/** Seconds and peak RSS (MB) of a command, by GNU time. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): { s: number; mb: number; out: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'TLRTIME %e %M', cmd, ...args], { encoding: 'utf8', env });
  const m = /TLRTIME ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-500)}`);
  return { s: Number(m[1]), mb: Number(m[2]) / 1024, out: r.stdout };
}

const cli = fs.existsSync(path.join(ROOT, 'dist/cli/bin.js'))
  ? [process.execPath, path.join(ROOT, 'dist/cli/bin.js')]
  : [process.execPath, '--import', 'tsx', path.join(ROOT, 'src/cli/bin.ts')];

/** In this process (a child of the bench, so its peak memory is its own): listing, splitting, the key cold and warm. */
async function startChild(dir: string): Promise<void> {
  const { compile } = await import('../src/compiler/index.js');
  const { listSplits } = await import('../src/runtime/data/dataset.js');
  const { featureKey } = await import('../src/engines/tfjs/train/features.js');
  const { digestCounts, forgetDigests } = await import('../src/runtime/data/file-digests.js');
  const file = path.join(dir, 'r.tlr');
  const plan = compile(fs.readFileSync(file, 'utf8'), { file }).plan!;
  let t = performance.now();
  const splits = listSplits(plan);
  const list = (performance.now() - t) / 1000;
  const items = [...splits.train, ...splits.validation, ...splits.test];
  const parts = {
    tlr: 'b',
    network: 'n',
    width: null,
    weightsSha256: 'w',
    featureLayer: 'f',
    inputSize: 32,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  };
  t = performance.now();
  const cold = featureKey(parts, items);
  const coldS = (performance.now() - t) / 1000;
  const hashed = digestCounts.hashed;
  forgetDigests();
  t = performance.now();
  const warm = featureKey(parts, items);
  const warmS = (performance.now() - t) / 1000;
  if (warm !== cold) throw new Error('the warm key differs from the cold one');
  const mb = process.resourceUsage().maxRSS / 1024;
  // The torch engine's start: tlr writes manifest.json (streaming), the engine reads it.
  const { writeManifest } = await import('../src/engines/torch/job.js');
  const manifest = path.join(dir, 'manifest.json');
  t = performance.now();
  writeManifest(plan, manifest);
  const manifestS = (performance.now() - t) / 1000;
  const manifestMb = fs.statSync(manifest).size / 1e6;
  const py =
    `import sys, time\nsys.path.insert(0, 'engines/torch')\nfrom tlr_torch.data import read_manifest\n` +
    `t = time.perf_counter(); c, s = read_manifest(sys.argv[1]); print(time.perf_counter() - t)`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, manifest], { encoding: 'utf8' });
  const readS = r.status === 0 ? Number(r.stdout.trim()) : null;
  console.log(
    JSON.stringify({
      list,
      coldS,
      warmS,
      hashed,
      fromIndex: digestCounts.fromIndex,
      items: items.length,
      mb,
      manifestS,
      manifestMb,
      readS,
    }),
  );
}

function imageFolder(dir: string): number | null {
  const py = `
import time, torchvision
t = time.perf_counter(); d = torchvision.datasets.ImageFolder('${path.join(dir, 'data')}'); print(time.perf_counter() - t, len(d))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim().split(/\s+/)[0]) : null;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return startChild(process.argv[3]!);
  const sizes = (process.argv[2] ?? '10000,100000').split(',').map(Number);
  const f = (v: number | null, d = 2) => (v === null ? 'n/a' : v.toFixed(d));
  console.log('data at scale: tiny PNGs in 4 class folders, local disk, 2 cores; seconds (peak MB)');
  console.log(
    'files     check          plan           list+split  key cold  key warm (index)  cold/warm  ImageFolder  tlr list/ImageFolder',
  );
  for (const n of sizes) {
    const dir = await folder(n);
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-scale-cache-'));
    const env = { ...process.env, TLR_CACHE: cache };
    const check = timed(cli[0]!, [...cli.slice(1), 'check', path.join(dir, 'r.tlr')], env);
    const plan = timed(cli[0]!, [...cli.slice(1), 'plan', path.join(dir, 'r.tlr')], env);
    const child = timed(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', dir], env);
    const k = JSON.parse(child.out.trim().split('\n').pop()!);
    const base = imageFolder(dir);
    fs.rmSync(cache, { recursive: true, force: true });
    console.log(
      `${String(n).padEnd(9)} ${f(check.s)} (${check.mb.toFixed(0)})`.padEnd(25) +
        `${f(plan.s)} (${plan.mb.toFixed(0)})`.padEnd(15) +
        `${f(k.list)}`.padEnd(12) +
        `${f(k.coldS)}`.padEnd(10) +
        `${f(k.warmS)} (${k.mb.toFixed(0)} MB)`.padEnd(18) +
        `${f(k.coldS / k.warmS, 1)}x`.padEnd(11) +
        `${f(base)}`.padEnd(13) +
        `${base ? f(k.list / base, 2) : 'n/a'}`,
    );
    console.log(
      `  manifest.json: ${f(k.manifestMb, 1)} MB, written (streaming) in ${f(k.manifestS)} s; ` +
        `the torch engine reads it in ${f(k.readS)} s`,
    );
    if (k.hashed !== k.items || k.fromIndex !== k.items)
      console.log(`  (hashed ${k.hashed}, from the index ${k.fromIndex})`);
  }
}

await main();
