import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { spawnAsync, tlrAsync } from '../../helpers/cli.js';
import { uniform } from '../../helpers/deterministic.js';
import { hasShared, SHARED, SKIP_SHARED } from '../../helpers/shared.js';
import { findTorchPython, hasTorch, engineEnv } from '../../../src/engines/torch/python.js';
import { graphForTorch } from '../../../src/engines/torch/job.js';
import { describe as modelInfo, FAMILIES, graphOf } from '../../../src/zoo/catalog.js';
import { OPS } from '../../../src/zoo/ops/index.js';
import { graphWeights } from '../../../src/zoo/weight-names.js';
import { toTorchvision } from '../../../src/runtime/weights/torchvision.js';
import { writeSafetensors } from '../../../src/runtime/weights/safetensors.js';
import { readTfjsModel } from '../../../src/runtime/weights/tfjs-format.js';
import type { RawTensor, WeightMap } from '../../../src/runtime/weights/tensors.js';
import { rng } from '../../../src/data/random.js';
import { HEAVY } from '../../helpers/heavy.js';
import { relativeError } from '../../helpers/conv-cases.js';

// The torch engine builds the zoo's Keras MobileNets from the zoo's own graph (job.json's
// network.graph, python/tlr_torch/graph.py): every width gives the tfjs engine's features,
// the real ImageNet weights too, and a MobileNet recipe runs on the torch engine end to end.

const py = await findTorchPython();
const why = hasTorch(py) ? null : `no Python with torch and torchvision (${py.tried.join('; ')})`;
if (why) console.warn(`skipping the torch MobileNet tests: ${why}`);
const d = why ? describe.skip : describe;
const python = hasTorch(py) ? py.python : 'python3';
const MOBILENETS = FAMILIES.filter((f) => f.layout === 'keras');

let dir = '';

/** Weights for every layer of `name` at `width`, from a hash of each name: BatchNorm variances positive. */
function hashWeights(name: string, width: number, size: number): WeightMap {
  const out: WeightMap = new Map();
  for (const w of graphWeights(graphOf(name, width, size))) {
    const n = w.shape.reduce((a, b) => a * b, 1),
      u = uniform(w.name, n),
      suffix = w.name.split('/')[1]!;
    const fanIn = n / w.shape[w.shape.length - 1]!;
    const value = (v: number) =>
      suffix === 'moving_variance' || suffix === 'gamma'
        ? 1 + v * 0.2
        : /kernel/.test(suffix)
          ? v * Math.sqrt(3 / Math.max(1, suffix === 'depthwise_kernel' ? n / w.shape[2]! : fanIn))
          : v * 0.1;
    out.set(w.name, { shape: w.shape, data: Float32Array.from(u, value) } as RawTensor);
  }
  return out;
}

/** The tfjs engine's features of `x` ([n, size, size, 3]) through the zoo network with `weights`. */
async function tfjsFeatures(name: string, width: number, size: number, weights: WeightMap, x: Float32Array) {
  const { tf } = await import('../../../src/engines/tfjs/tf.js');
  const { chooseBackend } = await import('../../../src/engines/tfjs/backend.js');
  const { buildLayers } = await import('../../../src/engines/tfjs/tf-layers/build.js');
  const { assignWeights } = await import('../../../src/engines/tfjs/assign-weights.js');
  await chooseBackend('wasm');
  const info = modelInfo(name, width, size);
  const model = buildLayers(graphOf(name, info.width, size), info.featureLayer, name, 1);
  assignWeights(model, weights, name, () => true);
  const out = tf.tidy(() => model.predict(tf.tensor4d(x, [x.length / (size * size * 3), size, size, 3])) as never);
  const values = Float32Array.from(await (out as { data(): Promise<Float32Array> }).data());
  tf.dispose(out as never);
  model.dispose();
  return values;
}

/** The torch engine's features for each case, from one Python process. */
async function torchFeatures(cases: { name: string; width: number; size: number; weights: WeightMap }[], x: string) {
  const jobs = cases.map((c, i) => {
    const file = path.join(dir, `w${i}.safetensors`);
    fs.writeFileSync(file, writeSafetensors(toTorchvision(c.weights, graphOf(c.name, c.width, c.size))));
    return { name: c.name, graph: graphForTorch(c.name, c.width, c.size), weights: file, size: c.size };
  });
  fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(jobs));
  const r = await spawnAsync(
    python,
    [
      '-c',
      `
import json, sys, numpy, torch
from tlr_torch.network import backbone, for_inference, load_backbone
out = []
for c in json.load(open(sys.argv[1])):
    b = backbone(c["name"], c["graph"])
    load_backbone(b, c["weights"])
    b.eval()
    s = c["size"]
    x = torch.from_numpy(numpy.fromfile(sys.argv[2], dtype=numpy.float32)[: 2 * s * s * 3].copy())
    x = x.reshape(2, s, s, 3).permute(0, 3, 1, 2)
    with torch.no_grad():  # as training runs it, and as a features pass does (BatchNorm folded)
        out.append([b(x).flatten().tolist(), for_inference(b)(x).flatten().tolist()])
print(json.dumps(out))`,
      path.join(dir, 'cases.json'),
      x,
    ],
    { env: engineEnv(process.env), encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as [number[], number[]][];
}

/** The largest |a - b| relative to the largest |a| (the tfjs engine's features are the reference). */
const relMax = (a: ArrayLike<number>, b: ArrayLike<number>): number => relativeError(b, a);

const smooth = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.0013) * 0.9);

d('the torch engine builds the Keras MobileNets from the zoo graph', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-mobilenets-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds every op kind of the zoo (graph.py has a row for each)', async () => {
    const r = await spawnAsync(python, ['-c', 'from tlr_torch.graph import OP_KINDS; print(" ".join(OP_KINDS))'], {
      env: engineEnv(process.env),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split(' ').sort()).toEqual(Object.keys(OPS).sort());
  });

  it("gives the tfjs engine's features at every width of both MobileNets (within 1e-4)", async () => {
    // 48 px: maps of even and of odd sizes (48, 24, 12, 6, 3, 2, 1), so both of TF's 'same' paddings at stride 2.
    const size = 48;
    const x = smooth(2 * size * size * 3);
    const xFile = path.join(dir, 'x.f32');
    fs.writeFileSync(xFile, Buffer.from(x.buffer));
    // Every width with TLR_HEAVY=1 (npm run test:heavy); the narrowest and the widest of each in npm test.
    const widths = (ws: readonly number[]) => (HEAVY ? ws : [ws[0]!, ws[ws.length - 1]!]);
    const cases = MOBILENETS.flatMap((f) =>
      widths(f.widths!).map((width) => ({ name: f.name, width, size, weights: hashWeights(f.name, width, size) })),
    );
    const torch = await torchFeatures(cases, xFile);
    for (const [i, c] of cases.entries()) {
      const ours = await tfjsFeatures(c.name, c.width, size, c.weights, x);
      const [plain, folded] = torch[i]!;
      expect(plain!.length, `${c.name} ${c.width}`).toBe(ours.length);
      expect(relMax(ours, plain!), `${c.name} width ${c.width}`).toBeLessThan(1e-4);
      expect(relMax(ours, folded!), `${c.name} width ${c.width}, BatchNorm folded`).toBeLessThan(1e-4);
    }
  }, 120_000);

  (hasShared ? it : it.skip)(
    `loads the real ImageNet MobileNets of ../shared to the same features as the tfjs engine${hasShared ? '' : ` (${SKIP_SHARED})`}`,
    async () => {
      const size = 224;
      const x = smooth(2 * size * size * 3);
      const xFile = path.join(dir, 'x224.f32');
      fs.writeFileSync(xFile, Buffer.from(x.buffer));
      const cases = [
        { name: 'mobilenet_v1', width: 0.25, folder: 'mobilenet_v1_0.25_224' },
        { name: 'mobilenet_v2', width: 0.35, folder: 'mobilenet_v2_0.35_224_no_top' },
      ].map((c) => ({
        ...c,
        size,
        weights: readTfjsModel(path.join(SHARED, 'weights', c.folder, 'model.json')).weights,
      }));
      const torch = await torchFeatures(cases, xFile);
      for (const [i, c] of cases.entries()) {
        const ours = await tfjsFeatures(c.name, c.width, size, c.weights, x);
        expect(relMax(ours, torch[i]![0]!), c.folder).toBeLessThan(1e-5);
        expect(relMax(ours, torch[i]![1]!), `${c.folder}, BatchNorm folded`).toBeLessThan(1e-5);
      }
    },
    120_000,
  );

  it('runs a MobileNet recipe on the torch engine (a frozen part computed once); tlr eval on TensorFlow.js agrees', async () => {
    const data = path.join(dir, 'data');
    const r = rng(3);
    for (const [part, n] of [
      ['train', 10],
      ['val', 4],
      ['test', 6],
    ] as const)
      for (const [c, rgb] of Object.entries({ warm: [210, 90, 40], cold: [40, 90, 210] })) {
        fs.mkdirSync(path.join(data, part, c), { recursive: true });
        for (let i = 0; i < n; i++) {
          const px = Buffer.from(
            Array.from({ length: 40 * 40 * 3 }, (_, k) => rgb[k % 3]! + Math.round((r() - 0.5) * 160)),
          );
          await sharp(px, { raw: { width: 40, height: 40, channels: 3 } })
            .png()
            .toFile(path.join(data, part, c, `${i}.png`));
        }
      }
    const recipe = path.join(dir, 'mobile.tlr');
    fs.writeFileSync(
      recipe,
      'from mobilenet_v2 width 0.35 weights none input 64\nfreeze until block10\nhead dense(2)\n' +
        'train 2 epochs on ./data\n  batch 8\n',
    );
    const run = await tlrAsync('run', recipe, '--engine', 'torch', '--json');
    expect(run.code, run.err).toBe(0);
    const runDir = path.join(dir, 'runs', 'mobile', fs.readdirSync(path.join(dir, 'runs', 'mobile'))[0]!);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
    const ev = await tlrAsync('eval', path.join(runDir, 'model'), data, '--json');
    expect(ev.code, ev.err).toBe(0);
    const evaluation = JSON.parse(ev.out);
    expect(evaluation.part).toBe('test');
    expect(evaluation.evaluation.images).toBe(12);
    expect(evaluation.evaluation.accuracy).toBeCloseTo(report.evaluation.accuracy, 6);
    // The mean cross-entropy: every image's probability of its class, not just the argmax.
    expect(Math.abs(evaluation.evaluation.loss - report.evaluation.loss)).toBeLessThan(1e-3);
  }, 180_000);
});
