// Peak memory of a split fine-tuning stage as the data set grows: ResNet-18 `freeze until block3`
// at 224 px, batch 32, its frozen part's outputs computed for every training and validation image
// (14 x 14 x 256 floats, 200 KB an image) and cached, then the first batches of the epoch
// trained on them (memory does not grow batch by batch after those: each batch is read, trained
// and freed). Each size runs in a fresh process, whose peak resident set (worker threads and
// ONNX Runtime included) is reported.
//   npx tsx bench/split-memory.ts [images ...]      (default 1000 8000)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-wasm';
import { run } from '../src/engines/tfjs/run.js';
import { Events } from '../src/runtime/events.js';
import { data, splitPlan } from './split-common.js';

const BATCHES = 6;

async function child(n: number): Promise<void> {
  const dir = await data(n);
  const plan = splitPlan(dir, 'resnet18', 1);
  const events = new Events();
  let batches = 0;
  let beforeTraining = 0;
  events.on((e) => {
    if (e.type === 'batch') batches++;
    if (e.type === 'stage-start') beforeTraining = process.resourceUsage().maxRSS;
  });
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bench-mem-'));
  const t0 = Date.now();
  await run({
    plan,
    recipeText: '',
    events,
    stopped: () => batches >= BATCHES,
    env: { ...process.env, TLR_CACHE: cache },
  });
  fs.rmSync(cache, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      images: n,
      peakMB: Math.round(process.resourceUsage().maxRSS / 1024),
      cacheMB: Math.round(beforeTraining / 1024),
      seconds: (Date.now() - t0) / 1000,
    }),
  );
}

if (process.argv[2] === '--child') await child(Number(process.argv[3]));
else {
  const sizes = process.argv.slice(2).map(Number);
  console.log(
    `ResNet-18 freeze until block3, 224 px, batch 32: frozen part cached for every image, then ${BATCHES} ` +
      `batches trained; peak resident memory of the whole process`,
  );
  for (const n of sizes.length ? sizes : [1000, 8000]) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', String(n)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`  ${n} images: failed (${r.stderr.trim().split('\n').pop()})`);
      continue;
    }
    const m = JSON.parse(line) as { images: number; peakMB: number; cacheMB: number; seconds: number };
    console.log(
      `  ${String(m.images).padStart(5)} images (+40 validation): peak ${m.peakMB} MB (${m.cacheMB} MB by the ` +
        `end of the frozen part's pass; ${m.seconds.toFixed(0)} s)`,
    );
  }
}
