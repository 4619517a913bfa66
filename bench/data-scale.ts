// Data at scale: `tlr check`, `tlr plan`, and a run's start (the recipe compiled, which lists the
// data; listing and splitting; the feature cache's key over every image) on folders of 10k, 100k and
// 1M tiny generated PNGs on local disk; time and peak memory for each. The first start hashes every
// file; the second, in a new process, reads the stat index of runtime/images/file-digests.ts back. The
// baseline in the same run is torchvision's ImageFolder listing the same folder (Debian's
// python3-torchvision).
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

/**
 * One run start in this process (a child of the bench, so its time and peak memory are its own), as `tlr run` starts:
 * the recipe compiled (the checker lists the data), the images listed and split, the feature cache's key over every
 * image. With `manifest`, also the torch engine's start: tlr writes manifest.json (streaming), the engine reads it.
 */
async function startChild(dir: string, manifest: boolean): Promise<void> {
  const { compile } = await import('../src/compiler/index.js');
  const { listSplits } = await import('../src/runtime/images/dataset.js');
  const { featureKey } = await import('../src/engines/tfjs/train/features.js');
  const { digestCounts } = await import('../src/runtime/images/file-digests.js');
  const file = path.join(dir, 'r.tlr');
  let t = performance.now();
  const plan = compile(fs.readFileSync(file, 'utf8'), { file }).plan!;
  const compileS = (performance.now() - t) / 1000;
  t = performance.now();
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
  const key = featureKey(parts, items);
  const keyS = (performance.now() - t) / 1000;
  const mb = process.resourceUsage().maxRSS / 1024;
  const out = { compileS, list, keyS, key, ...digestCounts, items: items.length, mb };
  if (!manifest) return console.log(JSON.stringify(out));
  const { writeManifest } = await import('../src/engines/torch/job.js');
  const where = path.join(dir, 'manifest.json');
  t = performance.now();
  writeManifest(plan, where);
  const manifestS = (performance.now() - t) / 1000;
  const manifestMb = fs.statSync(where).size / 1e6;
  const py =
    `import sys, time\nsys.path.insert(0, 'python')\nfrom tlr_torch.data import read_manifest\n` +
    `t = time.perf_counter(); c, s = read_manifest(sys.argv[1]); print(time.perf_counter() - t)`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, where], { encoding: 'utf8' });
  console.log(
    JSON.stringify({ ...out, manifestS, manifestMb, readS: r.status === 0 ? Number(r.stdout.trim()) : null }),
  );
}

function imageFolder(dir: string): number | null {
  const folder = path.join(dir, 'data');
  const py = `
import time, torchvision
t = time.perf_counter(); d = torchvision.datasets.ImageFolder('${folder}')
print(time.perf_counter() - t, len(d))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim().split(/\s+/)[0]) : null;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--start') return startChild(process.argv[3]!, process.argv[4] === 'manifest');
  const sizes = (process.argv[2] ?? '10000,100000').split(',').map(Number);
  const f = (v: number | null, d = 2) => (v === null ? 'n/a' : v.toFixed(d));
  console.log('data at scale: tiny PNGs in 4 class folders, local disk, 2 cores; seconds (peak MB)');
  console.log(
    'files     check        plan         first start: compile+list  key   total    ' +
      'second start: compile+list  key (index)  total (peak MB)   ImageFolder  second start/ImageFolder',
  );
  for (const n of sizes) {
    const dir = await folder(n);
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-scale-cache-'));
    const env = { ...process.env, TLR_CACHE: cache };
    const check = timed(cli[0]!, [...cli.slice(1), 'check', path.join(dir, 'r.tlr')], env);
    const plan = timed(cli[0]!, [...cli.slice(1), 'plan', path.join(dir, 'r.tlr')], env);
    const start = (manifest: boolean) =>
      JSON.parse(
        timed(
          process.execPath,
          ['--import', 'tsx', import.meta.filename, '--start', dir, ...(manifest ? ['manifest'] : [])],
          env,
        )
          .out.trim()
          .split('\n')
          .pop()!,
      );
    const cold = start(true);
    const warm = start(false);
    if (warm.key !== cold.key) throw new Error('the second start computed another key');
    const base = imageFolder(dir);
    fs.rmSync(cache, { recursive: true, force: true });
    const total = (k: typeof cold) => k.compileS + k.list + k.keyS;
    console.log(
      `${String(n).padEnd(9)} ${f(check.s)} (${check.mb.toFixed(0)})`.padEnd(23) +
        `${f(plan.s)} (${plan.mb.toFixed(0)})`.padEnd(13) +
        `${f(cold.compileS + cold.list)}`.padEnd(27) +
        `${f(cold.keyS)}`.padEnd(6) +
        `${f(total(cold))}`.padEnd(9) +
        `${f(warm.compileS + warm.list)}`.padEnd(28) +
        `${f(warm.keyS)}`.padEnd(13) +
        `${f(total(warm))} (${warm.mb.toFixed(0)})`.padEnd(18) +
        `${f(base)}`.padEnd(13) +
        `${base ? f(total(warm) / base, 1) : 'n/a'}x`,
    );
    console.log(
      `  manifest.json: ${f(cold.manifestMb, 1)} MB, written (streaming) in ${f(cold.manifestS)} s; ` +
        `the torch engine reads it in ${f(cold.readS)} s`,
    );
    if (cold.hashed !== cold.items || warm.fromIndex !== warm.items || warm.hashed)
      console.log(
        `  (first start hashed ${cold.hashed}; second: ${warm.hashed} hashed, ${warm.fromIndex} from the index)`,
      );
  }
}

await main();
