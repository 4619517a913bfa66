// int8 against float on ONNX Runtime, and against PyTorch at its best, in the same run on the same cores: each
// network's pass over batches of 8 images at 224 px (images/second, min/median/max over repeats, the float and int8
// runs taken in turns), and how far the int8 network's output is from the float one on images it was not calibrated
// on (relative error, and the share of images whose top output is the same). The networks carry tlr's deterministic
// stand-in weights (ImageNet ResNets cannot be downloaded here), so accuracy on labels is measured by `tlr export
// --int8` on trained models, not here. Calibration and quantization are what `tlr export --int8` runs
// (quantizeCalibrated: Percentile 99.99%, bias correction, 7-bit weights on a CPU without VNNI).
//   npx tsx bench/int8.ts [repeats] [networks, comma-separated]
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import onnxProto from 'onnx-proto';
import '@tensorflow/tfjs-backend-wasm';
import { chooseBackend } from '../src/engines/tfjs/backend.js';
import { buildLayers } from '../src/engines/tfjs/tf-layers/build.js';
import { describe, graphOf } from '../src/zoo/catalog.js';
import { compile } from '../src/engines/tfjs/infer/program.js';
import { toOnnx } from '../src/engines/tfjs/onnx/to-onnx.js';
import type { CalibrationBatch } from '../src/engines/tfjs/onnx/calibrate.js';
import { loadOrt, session } from '../src/engines/tfjs/onnx/runtime.js';
import { hasVnni, quantizeCalibrated } from '../src/engines/tfjs/int8.js';
import { decodeRgb, normalize } from '../src/runtime/images/image.js';
import { benchImages } from './jpegs.js';
import { concatFloats } from '../src/runtime/batches.js';

const { onnx } = onnxProto;
const REPEATS = Number(process.argv[2] ?? 3);
const NETS = (process.argv[3] ?? 'resnet18,resnet50,mobilenet_v2').split(',');
const cores = os.availableParallelism(),
  size = 224,
  batch = 8;
const GOALS: Record<string, number> = { resnet18: 1.8, resnet50: 2.0, mobilenet_v2: 1.0 };
const r = loadOrt();
if (!('ort' in r)) throw new Error(r.error);
const ort = r.ort;

async function load(files: readonly string[]): Promise<CalibrationBatch[]> {
  const pre = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const out: CalibrationBatch[] = [];
  for (let i = 0; i < files.length; i += batch) {
    const xs = await Promise.all(files.slice(i, i + batch).map(async (f) => normalize(await decodeRgb(f, size), pre)));
    out.push({ data: concatFloats(xs), shape: [xs.length, size, size, 3] });
  }
  return out;
}

/** Images/second of `bytes` on `x`: at least 3 runs and half a second. */
async function rate(s: Awaited<ReturnType<typeof session>>, x: CalibrationBatch): Promise<number> {
  const input = { input: new ort.Tensor('float32', x.data, [...x.shape]) };
  const t0 = performance.now();
  let n = 0;
  while (n < 3 || performance.now() - t0 < 500) {
    await s.run(input);
    n++;
  }
  return (n * x.shape[0]!) / ((performance.now() - t0) / 1000);
}

/** PyTorch at its best: torchvision's network, eval, no_grad, channels_last, one thread per core; images/second. */
function torchRates(name: string): number[] | null {
  const py = `
import time, torch, torchvision
torch.set_num_threads(${cores})
m = getattr(torchvision.models, '${name}')(weights=None).eval().to(memory_format=torch.channels_last)
x = torch.randn(${batch}, 3, ${size}, ${size}).to(memory_format=torch.channels_last)
out = []
with torch.no_grad():
    for _ in range(2): m(x)
    for _ in range(${REPEATS}):
        t = time.perf_counter(); n = 0
        while n < 3 or time.perf_counter() - t < 0.5: m(x); n += 1
        out.append(n * ${batch} / (time.perf_counter() - t))
print(' '.join(map(str, out)))
`;
  const p = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  return p.status === 0 ? p.stdout.trim().split(/\s+/).map(Number) : null;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const mmm = (xs: number[], d = 1) => {
  const s = stats(xs);
  return `${s.min.toFixed(d)}/${s.median.toFixed(d)}/${s.max.toFixed(d)}`;
};

await chooseBackend('wasm');
const files = await benchImages(128);
const calib = await load(files.slice(0, 64)),
  held = await load(files.slice(64));
console.log(
  `int8 vs float, ONNX Runtime ${ort.env.versions?.common ?? ''}, ${cores} cores (${os.cpus()[0]?.model.trim()}), ` +
    `batch ${batch} at ${size} px, ${REPEATS} repeats; 7-bit weights: ${!hasVnni()}`,
);
console.log(
  'network        float img/s      int8 img/s       int8/float min/med/max (goal)  int8/PyTorch med   ' +
    'rel err  same argmax',
);
for (const name of NETS) {
  const info = describe(name, null, size),
    graph = graphOf(name, info.width, size);
  const model = buildLayers(graph, info.featureLayer, name, 1);
  const fp32 = toOnnx(compile(graph, info.featureLayer, model));
  model.dispose();
  const proto = onnx.ModelProto.decode(fp32);
  const { int8 } = await quantizeCalibrated(ort, proto, calib, cores);
  const [sf, sq] = [await session(ort, fp32, cores), await session(ort, int8, cores)];
  let e = 0,
    norm = 0,
    same = 0,
    n = 0;
  for (const x of held) {
    const input = { input: new ort.Tensor('float32', x.data, [...x.shape]) };
    const [a, b] = [
      (await sf.run(input))['output']!.data as Float32Array,
      (await sq.run(input))['output']!.data as Float32Array,
    ];
    const per = a.length / x.shape[0]!;
    for (let i = 0; i < x.shape[0]!; i++) {
      const top = (y: Float32Array) =>
        y.subarray(i * per, (i + 1) * per).reduce((best, v, j, row) => (v > row[best]! ? j : best), 0);
      same += top(a) === top(b) ? 1 : 0;
      n++;
    }
    for (let i = 0; i < a.length; i++) {
      e += (a[i]! - b[i]!) ** 2;
      norm += a[i]! ** 2;
    }
  }
  const f: number[] = [],
    q: number[] = [],
    ratio: number[] = [];
  for (const s of [sf, sq]) await rate(s, held[0]!);
  for (let k = 0; k < REPEATS; k++) {
    f.push(await rate(sf, held[0]!));
    q.push(await rate(sq, held[0]!));
    ratio.push(q[k]! / f[k]!);
  }
  await sf.release();
  await sq.release();
  const t = torchRates(name);
  const vsTorch = t ? (stats(q).median / stats(t).median).toFixed(2) : 'n/a';
  console.log(
    `${name.padEnd(13)}  ${mmm(f).padEnd(15)}  ${mmm(q).padEnd(15)}  ${mmm(ratio, 2).padEnd(14)} ` +
      `(>= ${GOALS[name] ?? '-'})` +
      `   ${vsTorch.padStart(6)} (PyTorch ${t ? mmm(t) : 'n/a'})   ${Math.sqrt(e / norm).toFixed(3)}    ` +
      `${((100 * same) / n).toFixed(0)}%`,
  );
}
