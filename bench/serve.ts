// tlr serve under load (autocannon, in this process) on this machine: latency p50/p99 and requests/s of POST
// /v2/models/NAME/classify (one image's bytes a request) at concurrency 1, 8 and 32, with batching (--max-batch 32,
// or MAX_BATCH)
// and without (--max-batch 1); and the baseline measured in the same run: the same image decoded, preprocessed and run
// through the same model in this process, one at a time (a direct ONNX Runtime call plus decoding).
// Goals: batched ≥ 3x unbatched requests/s at concurrency 32; p99 at concurrency 1 within 1.2x the baseline's p99.
//   npm run build && npx tsx bench/serve.ts MODEL_DIR IMAGE [SECONDS] [REPEATS] [DECODE_THREADS] [MAX_BATCH]
// (DECODE_THREADS: the servers' --decode-threads, default 0)
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { models } from '../src/engines/index.js';
import { decodeRgb, normalize } from '../src/runtime/images/image.js';

const [dir, image] = process.argv.slice(2);
if (!dir || !image)
  throw new Error('usage: npx tsx bench/serve.ts MODEL_DIR IMAGE [SECONDS] [REPEATS] [DECODE_THREADS] [MAX_BATCH]');
const seconds = Number(process.argv[4] ?? 8);
const repeats = Number(process.argv[5] ?? 3);
const decodeThreads = process.argv[6] ?? '0';
const maxBatch = process.argv[7] ?? '32';
const bytes = fs.readFileSync(image);
const CONCURRENCY = [1, 8, 32];

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const fmt = (s: { min: number; median: number; max: number }, d = 1) =>
  `${s.min.toFixed(d)} / ${s.median.toFixed(d)} / ${s.max.toFixed(d)}`;

/**
 * The baseline: decode, preprocess and run one image at a time in this process, for `secs`; latencies in ms. Also
 * where a request's time goes: decoding and preprocessing one image, and the model per image at batch 1 and 32.
 */
async function direct(secs: number): Promise<{ lat: number[]; decode: number; model1: number; model32: number }> {
  const service = await models();
  const m = await service.open(dir!);
  const s = await service.serve(m, { maxBatch: 32 });
  const lat: number[] = [];
  try {
    const end = performance.now() + secs * 1000;
    while (performance.now() < end) {
      const t0 = performance.now();
      await s.run(normalize(await decodeRgb(bytes, s.inputSize), s.preprocessing), 1);
      lat.push(performance.now() - t0);
    }
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) normalize(await decodeRgb(bytes, s.inputSize), s.preprocessing);
    const decode = (performance.now() - t0) / 20;
    const x1 = normalize(await decodeRgb(bytes, s.inputSize), s.preprocessing);
    const per = async (n: number) => {
      const x = new Float32Array(x1.length * n).map((_, i) => x1[i % x1.length]!);
      const t = performance.now();
      for (let i = 0; i < 5; i++) await s.run(x, n);
      return (performance.now() - t) / 5 / n;
    };
    return { lat, decode, model1: await per(1), model32: await per(32) };
  } finally {
    await s.close();
    m.dispose();
  }
}

const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

/** `tlr serve` in a child process with `flags`; its classify URL once it listens. */
function start(flags: string[]): Promise<{ child: ChildProcess; url: string }> {
  const bin = path.resolve('dist/cli/bin.js');
  const child = spawn(process.execPath, [
    bin,
    'serve',
    `m=${dir}`,
    '--port',
    '0',
    '--access-log',
    '/dev/null',
    '--decode-threads',
    decodeThreads,
    ...flags,
  ]);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /at (http:\/\/[^ ]+\/v2\/models\/m)/.exec(err);
      if (m) resolve({ child, url: `${m[1]}/classify` });
    });
    child.on('exit', (code) => reject(new Error(`tlr serve exited ${code}: ${err}`)));
  });
}

/** One load: requests/s, and p50/p99 latency in ms. */
async function load(url: string, connections: number) {
  const r = await autocannon({ url, method: 'POST', body: bytes, connections, duration: seconds });
  if (r.non2xx || r.errors) throw new Error(`${r.non2xx} answers were not 2xx and ${r.errors} requests failed`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

type Row = Awaited<ReturnType<typeof load>>;
const results: Record<string, Row[]> = {};
const baseline: { p50: number; p99: number; rps: number; decode: number; model1: number; model32: number }[] = [];
for (let i = 0; i < repeats; i++) {
  const { lat, ...split } = await direct(seconds);
  baseline.push({ p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), rps: lat.length / seconds, ...split });
  for (const [mode, flags] of [
    ['batched', ['--max-batch', maxBatch]],
    ['unbatched', ['--max-batch', '1']],
  ] as const) {
    const { child, url } = await start([...flags]);
    try {
      await load(url, 8); // warm-up: the first requests start ONNX Runtime's threads
      for (const c of CONCURRENCY) {
        const key = `${mode} c=${c}`;
        results[key] = [...(results[key] ?? []), await load(url, c)];
      }
    } finally {
      child.kill('SIGTERM');
    }
  }
}

console.log(
  `tlr serve, ${path.basename(path.resolve(dir))}, ${path.basename(image)}; ${repeats} repeats of ${seconds} s; ` +
    `--decode-threads ${decodeThreads}; batched: --max-batch ${maxBatch}`,
);
console.log('min / median / max\n');
/** A column of figures as min / median / max. */
const col = <T>(rows: T[], f: (r: T) => number, d = 1) => fmt(stats(rows.map(f)), d);
console.log(
  `baseline (in process, one at a time): p50 ${col(baseline, (b) => b.p50)} ms · ` +
    `p99 ${col(baseline, (b) => b.p99)} ms · ${col(baseline, (b) => b.rps)} images/s`,
);
console.log(
  `  per image: decode + preprocess ${col(baseline, (b) => b.decode)} ms · model at batch 1 ` +
    `${col(baseline, (b) => b.model1)} ms · at batch 32 ${col(baseline, (b) => b.model32)} ms`,
);
for (const [k, rows] of Object.entries(results))
  console.log(
    `${k.padEnd(15)} ${col(rows, (r) => r.rps)} req/s · p50 ${col(rows, (r) => r.p50)} ms · ` +
      `p99 ${col(rows, (r) => r.p99)} ms`,
  );
const ratio = (a: number[], b: number[]) => stats(a.map((x, i) => x / b[i]!));
const b32 = results['batched c=32']!.map((r) => r.rps),
  u32 = results['unbatched c=32']!.map((r) => r.rps);
console.log(`\nbatched / unbatched requests/s at c=32: ${fmt(ratio(b32, u32), 2)} (goal ≥ 3)`);
const p99 = results['batched c=1']!.map((r) => r.p99);
console.log(
  `p99 at c=1 / baseline p99: ${fmt(
    ratio(
      p99,
      baseline.map((b) => b.p99),
    ),
    2,
  )} (goal ≤ 1.2)`,
);
process.exit(0);
