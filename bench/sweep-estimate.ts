// How close `tlr plan`'s sweep estimate comes to the sweep's measured time, cold (an empty cache: every image decoded,
// every feature computed) and warm (the same sweep again), on each engine that runs here. The goal: within 2x
// either way. The sweep is the quickstart's with a third rate (6 variants sharing one feature cache).
//   npx tsx bench/sweep-estimate.ts [REPEATS]      (tlr doctor --calibrate first; TLR_WEIGHTS_DIR for the weights)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compile } from '../src/compiler/index.js';
import { calibrationFile } from '../src/runtime/calibration.js';
import { sweepEstimates } from '../src/cli/estimate-text.js';
import type { Plan } from '../src/contracts/plan.js';

const repeats = Number(process.argv[2] ?? 2);
const root = process.cwd(); // run from the repository's root
const calibration = calibrationFile();
if (!fs.existsSync(calibration)) throw new Error(`no ${calibration}: run tlr doctor --calibrate first`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-sweep-estimate-'));
fs.cpSync(path.join(root, 'recipes/quickstart/clothes'), path.join(dir, 'clothes'), { recursive: true });
const text = fs
  .readFileSync(path.join(root, 'recipes/quickstart/sweep.tlr'), 'utf8')
  .replace('lr {0.003, 0.001}', 'lr {0.003, 0.001, 0.0003}');
const file = path.join(dir, 'sweep.tlr');
fs.writeFileSync(file, text);
const sweep = compile(text, { file, sweeps: true }).sweep!;
const estimates = sweepEstimates(sweep.variants.map((v) => v.plan as Plan));

/** Seconds `tlr run` takes in a fresh process, with the cache folder given (holding the calibration). */
function timed(engine: string, cache: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(root, 'dist/cli/bin.js'), 'run', file, '--engine', engine], {
    env: { ...process.env, TLR_CACHE: cache },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tlr run --engine ${engine} failed:\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(2)} / ${s[Math.floor(s.length / 2)]!.toFixed(2)} / ${s[s.length - 1]!.toFixed(2)}`;
};

console.log(`sweep: ${sweep.variants.length} variants of ${file}; ${repeats} repeats; ${os.cpus().length} cores`);
console.log('engine  estimate cold / warm    measured cold (min/median/max)  warm            estimate÷measured');
for (const e of estimates) {
  if (e.seconds === null || e.warm === null) {
    console.log(`${e.engine}: not calibrated here`);
    continue;
  }
  const cold: number[] = [],
    warm: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const cache = fs.mkdtempSync(path.join(dir, 'cache-'));
    fs.copyFileSync(calibration, path.join(cache, 'calibration.json'));
    cold.push(timed(e.engine, cache));
    warm.push(timed(e.engine, cache));
  }
  const ratio = (est: number, xs: number[]) => stats(xs.map((x) => est / x));
  console.log(
    `${e.engine.padEnd(7)} ${e.seconds.toFixed(1).padStart(6)} s / ${e.warm.toFixed(1).padStart(5)} s   ` +
      `${stats(cold)} s   ${stats(warm)} s   cold ${ratio(e.seconds, cold)}, warm ${ratio(e.warm, warm)}`,
  );
}
fs.rmSync(dir, { recursive: true, force: true });
