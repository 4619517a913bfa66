import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython, hasTorch } from '../../src/engines/torch/python.js';
import { loadOrt } from '../../src/engines/tfjs/onnx/runtime.js';
import { decodeRgb, normalize } from '../../src/runtime/images/image.js';
import { listSplits } from '../../src/runtime/images/dataset.js';
import { bestThresholds } from '../../src/runtime/multi-label.js';
import { readContract } from '../../src/contracts/read.js';
import { tlrAsync } from '../helpers/cli.js';
import { makeDigits } from '../../scripts/multi-label-data.js';
import { hasShared, SHARED, SKIP_SHARED } from '../helpers/shared.js';
import { HEAVY } from '../helpers/heavy.js';

// Multi-label training end to end: 2–4 digits on a 64×64 canvas, ImageNet's MobileNet V2 0.35 as a fixed feature
// extractor, one sigmoid per digit. Each engine's report is checked against metrics computed here, independently, from
// the predictions.csv it saved; `tlr predict` and the ONNX export use the thresholds in the model folder; and the
// TensorFlow.js engine, given the torch engine's model, finds the same probabilities and thresholds (TLR_HEAVY: the
// torch run, as the imbalance test's).

const py = HEAVY ? await findTorchPython() : null;
const TORCH = !!py && hasTorch(py);
const ort = loadOrt();

let dir: string;
const saved = process.env['TLR_WEIGHTS_DIR'];
const RECIPE = `from mobilenet_v2 width 0.35
head dense(10) multi-label
train 30 epochs on ./digits/labels.csv
  lr 0.003
split 70/15/15
save best by map
export onnx softmax
`;

interface Row {
  image: string;
  labels: string[];
  predicted: string[];
  p: number[];
}

/** predictions.csv's rows. */
function predictions(run: string, names: readonly string[]): Row[] {
  const rows = parse(fs.readFileSync(path.join(run, 'predictions.csv')), { columns: true }) as Record<string, string>[];
  const list = (s: string) => (s ? s.split(';') : []);
  return rows.map((r) => ({
    image: r['image']!,
    labels: list(r['labels']!),
    predicted: list(r['predicted']!),
    p: names.map((n) => Number(r[`p:${n}`])),
  }));
}

/** Average precision written out as its definition: the mean, over the images with the label, of the precision among
 * the images scoring at least theirs. */
function ap(scores: number[], truth: boolean[]): number {
  const pos = scores.filter((_, i) => truth[i]);
  return (
    pos.reduce((a, s) => {
      const above = scores.map((v, i) => [v, i] as const).filter(([v]) => v >= s);
      return a + above.filter(([, i]) => truth[i]).length / above.length;
    }, 0) / pos.length
  );
}

/** The run's folder after `tlr run` on `engine`. */
async function train(engine: string): Promise<string> {
  const file = path.join(dir, `digits-${engine}.tlr`);
  fs.writeFileSync(file, RECIPE);
  const r = await tlrAsync('run', file, '--engine', engine, '--json');
  expect(r.code, r.err).toBe(0);
  const runs = path.join(dir, 'runs', `digits-${engine}`);
  return path.join(runs, fs.readdirSync(runs)[0]!);
}

/** Checks a run's report against its predictions.csv and its model folder's thresholds; returns what it read. */
function checkRun(run: string) {
  const model = path.join(run, 'model');
  const names = JSON.parse(fs.readFileSync(path.join(model, 'labels.json'), 'utf8')) as string[];
  const pre = JSON.parse(fs.readFileSync(path.join(model, 'preprocessing.json'), 'utf8'));
  const ev = JSON.parse(fs.readFileSync(path.join(run, 'report.json'), 'utf8')).evaluation;
  const rows = predictions(run, names);
  expect([pre.task, pre.thresholds.length, ev.task, ev.images]).toEqual([
    'multi-label',
    10,
    'multi-label',
    rows.length,
  ]);
  const maps = names.map((n, l) =>
    ap(
      rows.map((r) => r.p[l]!),
      rows.map((r) => r.labels.includes(n)),
    ),
  );
  const map = maps.reduce((a, b) => a + b, 0) / maps.length;
  expect(ev.map).toBeCloseTo(map, 9);
  expect(map).toBeGreaterThanOrEqual(0.9);
  // The prediction is every label at its threshold, and the subset accuracy and micro F1 follow from it.
  for (const r of rows) expect(r.predicted).toEqual(names.filter((_, l) => r.p[l]! >= pre.thresholds[l]));
  let tp = 0,
    fp = 0,
    fn = 0;
  for (const r of rows)
    for (const n of names) {
      const said = r.predicted.includes(n),
        is = r.labels.includes(n);
      tp += +(said && is);
      fp += +(said && !is);
      fn += +(!said && is);
    }
  expect(ev.microF1).toBeCloseTo((2 * tp) / (2 * tp + fp + fn), 9);
  const exact = rows.filter((r) => r.predicted.join() === [...r.labels].sort().join()).length;
  expect(ev.subsetAccuracy).toBeCloseTo(exact / rows.length, 9);
  expect(ev.classes.map((c: { threshold: number }) => c.threshold)).toEqual(pre.thresholds);
  return { model, names, pre, rows, ev };
}

beforeAll(async () => {
  if (!hasShared) return;
  process.env['TLR_WEIGHTS_DIR'] = path.join(SHARED, 'weights');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-multi-label-'));
  await makeDigits(path.join(dir, 'digits'), 600);
});
afterAll(() => {
  if (saved === undefined) delete process.env['TLR_WEIGHTS_DIR'];
  else process.env['TLR_WEIGHTS_DIR'] = saved;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasShared)(`multi-label digits${hasShared ? '' : ` (${SKIP_SHARED})`}`, () => {
  let tfjs: ReturnType<typeof checkRun>;

  it('the tfjs engine reaches mAP ≥ 0.90; its report is what its predictions.csv gives', async () => {
    tfjs = checkRun(await train('tfjs'));
  }, 240_000);

  it('tlr predict and the ONNX export use the thresholds saved in the model folder', async () => {
    const some = tfjs.rows.slice(0, 6);
    const r = await tlrAsync('predict', tfjs.model, ...some.map((x) => x.image), '--json', '--top', '10');
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { labels: { label: string; probability: number; threshold: number }[] }[];
    for (const [i, x] of some.entries()) {
      expect(out[i]!.labels.map((l) => l.label).sort()).toEqual(x.predicted);
      for (const l of out[i]!.labels) {
        expect(l.threshold).toBe(tfjs.pre.thresholds[tfjs.names.indexOf(l.label)]);
        expect(l.probability).toBeCloseTo(x.p[tfjs.names.indexOf(l.label)]!, 4);
      }
    }
    // The thresholds travel in the ONNX file's metadata (a protobuf string: its JSON is there byte for byte).
    const onnx = fs.readFileSync(path.join(tfjs.model, 'model.onnx'));
    expect(onnx.includes(Buffer.from(JSON.stringify(tfjs.pre.thresholds)))).toBe(true);
    if (!('ort' in ort)) return;
    const session = await ort.ort.InferenceSession.create(onnx);
    for (const x of some) {
      const input = normalize(await decodeRgb(x.image, tfjs.pre.inputSize), tfjs.pre);
      const t = new ort.ort.Tensor('float32', input, [1, tfjs.pre.inputSize, tfjs.pre.inputSize, 3]);
      const y = (await session.run({ input: t }))['output']!.data as Float32Array;
      for (const [l, p] of x.p.entries()) expect(y[l]).toBeCloseTo(p, 4);
    }
    await session.release();
  }, 120_000);

  it('the TF.js export keeps the thresholds (with --softmax, a sigmoid per label); tlr eval refuses data of the other task', async () => {
    const out = path.join(dir, 'digits-tfjs-export');
    const e = await tlrAsync('export', tfjs.model, '--format', 'tfjs', '--softmax', '--out', out);
    expect(e.code, e.err).toBe(0);
    const pre = JSON.parse(fs.readFileSync(path.join(out, 'preprocessing.json'), 'utf8'));
    expect([pre.task, pre.output, pre.thresholds]).toEqual(['multi-label', 'probabilities', tfjs.pre.thresholds]);
    const x = tfjs.rows[0]!;
    const r = await tlrAsync('predict', out, x.image, '--json');
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out)[0].labels as { label: string; probability: number }[];
    expect(got.map((l) => l.label).sort()).toEqual(x.predicted);
    for (const l of got) expect(l.probability).toBeCloseTo(x.p[tfjs.names.indexOf(l.label)]!, 4);
    // One label per image (class folders) against a multi-label model: said, not evaluated.
    const folders = path.join(dir, 'folders');
    for (const c of ['3', '7']) {
      fs.mkdirSync(path.join(folders, c), { recursive: true });
      fs.copyFileSync(x.image, path.join(folders, c, 'a.png'));
    }
    const ev = await tlrAsync('eval', tfjs.model, folders);
    expect(ev.code).not.toBe(0);
    expect(ev.err).toContain('gives one label per image, but the model is multi-label');
  }, 120_000);

  it.skipIf(!TORCH)(
    `the torch engine reaches it too, and TensorFlow.js finds its probabilities and thresholds${TORCH ? '' : ' (TLR_HEAVY with torch)'}`,
    async () => {
      const torch = checkRun(await train('torch'));
      const run = path.dirname(torch.model);
      const val = listSplits(readContract('plan', path.join(run, 'plan.json'))).validation;
      const images = val.map((it) => (it.kind === 'file' ? it.path : ''));
      const r = await tlrAsync('predict', torch.model, ...images, '--json', '--top', '10');
      expect(r.code, r.err).toBe(0);
      const out = JSON.parse(r.out) as { top: { label: string; probability: number }[] }[];
      const probs = out.map((o) => torch.names.map((n) => o.top.find((t) => t.label === n)!.probability));
      const truth = val.map((it) =>
        torch.names.map((n) => +(it.kind === 'file' && it.labels!.includes(torch.names.indexOf(n)))),
      );
      const found = bestThresholds(probs, truth, torch.names.length);
      for (const [l, t] of found.entries()) expect(t).toBeCloseTo(torch.pre.thresholds[l], 4);
    },
    300_000,
  );
});
