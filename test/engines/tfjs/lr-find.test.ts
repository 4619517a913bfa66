import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../src/engines/tfjs/tf.js';
import { compile } from '../../../src/compiler/index.js';
import { lrSweep, suggest, centred } from '../../../src/engines/tfjs/train/range-test.js';
import { FeatureSource } from '../../../src/engines/tfjs/train/batch-sources.js';
import { makeWorld, recipe } from '../../helpers/run-fixture.js';
import { tlrAsync } from '../../helpers/cli.js';
import { findTorchPython, hasTorch } from '../../../src/engines/torch/python.js';

const hasTorchHere = hasTorch(await findTorchPython());

// The learning-rate range test: its suggestion rule on known curves, weights put back after a
// sweep, and `tlr lr-find` end to end (chart, --json, --write through the formatter).

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('the learning-rate finder', () => {
  it('suggests a tenth of the rate at the lowest loss, and finds the steepest descent before it', () => {
    const lrs = Array.from({ length: 81 }, (_, i) => 1e-6 * 10 ** (i / 10)); // 1e-6 .. 100
    // A loss flat up to 1e-4, falling fastest at 1e-3, lowest at 0.1, exploding after.
    const loss = lrs.map((lr) => {
      const x = Math.log10(lr);
      return x < 1 ? 2 - 1.5 / (1 + Math.exp(-3 * (x + 3))) + 0.2 * Math.max(0, x + 1) ** 2 : 10;
    });
    const s = suggest(lrs, loss);
    expect(Math.log10(s.minimum)).toBeCloseTo(-1 + 0.3, 0);
    expect(Math.log10(s.steepest)).toBeCloseTo(-3, 0);
    expect(s.suggestion).toBeCloseTo(s.minimum / 10, 12);
  });
  it('smooths without lag: a centred average keeps a step where it is', () => {
    const step = Array.from({ length: 40 }, (_, i) => (i < 20 ? 1 : 0));
    const c = centred(step);
    expect(c[19]! > 0.5 && c[20]! < 0.5).toBe(true);
  });
  it('puts every weight (BatchNorm statistics too) back after the sweep, and leaks no tensors', async () => {
    const input = tf.input({ shape: [8] });
    const h = tf.layers
      .batchNormalization({})
      .apply(tf.layers.dense({ units: 6, activation: 'relu' }).apply(input)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3 }).apply(h) as tf.SymbolicTensor });
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const x = tf.randomNormal([64, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
    const y = Int32Array.from({ length: 64 }, (_, i) => i % 3);
    const n0 = tf.memory().numTensors;
    const stage = {
      index: 1,
      epochs: 1,
      batch: 8,
      optimizer: 'adam',
      lr: { initial: 1e-3, schedule: { kind: 'constant' } },
      earlyStop: null,
      classWeights: 'none',
      frozen: { layers: 0, through: null, by: '', params: 0 },
      trainable: { from: null, backboneParams: 0, headParams: 0 },
      featureCache: { use: true, reason: 'x' },
      startFrom: 'weights',
    } as const;
    const curve = await lrSweep({
      model,
      train: new FeatureSource(x, y),
      stage,
      classes: 3,
      probabilities: false,
      classWeights: null,
      seed: 1,
      steps: 40,
    });
    expect(curve.lrs.length).toBeGreaterThan(10);
    expect(curve.lrs.every((lr, i) => i === 0 || lr > curve.lrs[i - 1]!)).toBe(true);
    expect(tf.memory().numTensors).toBe(n0);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    x.dispose();
    model.dispose();
  });
  it("tlr lr-find prints the curve and a suggestion, writes the chart, and --write sets the stage's lr", async () => {
    const w = makeWorld({ perClass: 8 });
    const file = recipe(
      w.dir,
      `# a comment that stays\nfrom mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain ` +
        `3 epochs on ./data\n  lr 0.001 cosine\nsplit 50/50\n`,
    );
    process.env['TLR_CACHE'] = path.join(w.dir, 'cache');
    try {
      const j = await tlrAsync('lr-find', file, '--json', '--steps', '30');
      expect(j.code, j.err).toBe(0);
      const r = JSON.parse(j.out);
      expect(r.suggestion).toBeGreaterThan(1e-7);
      expect(r.lrs.length).toBeLessThanOrEqual(30);
      expect(fs.readFileSync(r.svg, 'utf8')).toMatch(/^<svg[\s\S]*suggested/);
      const t = await tlrAsync('lr-find', file, '--write', '--steps', '30');
      expect(t.code, t.err).toBe(0);
      expect(t.out).toMatch(/suggested {2}lr \S+/);
      expect(t.out).toContain('┤');
      const written = fs.readFileSync(file, 'utf8');
      expect(written).toContain('# a comment that stays');
      expect(written).toMatch(new RegExp(`lr ${r.written.replace('.', '\\.')} cosine`));
      expect(compile(written, { file }).plan!.stages[0]!.lr.initial).toBe(Number(r.written));
    } finally {
      delete process.env['TLR_CACHE'];
    }
  }, 120_000);
  it('`lr auto` runs the finder when the stage starts and records the rate in the output, ' +
    'metrics.jsonl and report.json', async () => {
    const w = makeWorld({ perClass: 8 });
    const file = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data\n  ` +
        `lr auto\nsplit 50/50\n`,
    );
    process.env['TLR_CACHE'] = path.join(w.dir, 'cache');
    try {
      const r = await tlrAsync('run', file, '--json');
      expect(r.code, r.err).toBe(0);
      const events = r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const found = events.find((e) => e.type === 'lr-found');
      expect(found).toMatchObject({ stage: 1, rule: expect.stringContaining('smoothed loss') });
      const epochs = events.filter((e) => e.type === 'epoch');
      expect(epochs[0].lr).toBe(found.lr);
      const runDir = events.find((e) => e.type === 'finished').runDir;
      const lines = fs
        .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.every((l) => l.lrAuto === found.lr)).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')).lrAuto).toEqual([
        { stage: 1, lr: found.lr },
      ]);
      const text = await tlrAsync('run', file);
      expect(text.out).toMatch(/lr auto: \S+ \(a tenth of the rate where the smoothed loss is lowest/);
      // The torch engine builds MobileNets from the zoo's graph, and finds its rate the same way.
      const torch = await tlrAsync('run', file, '--engine', 'torch');
      if (hasTorchHere) {
        expect(torch.code, torch.err).toBe(0);
        expect(torch.out).toMatch(/lr auto: \S+ \(a tenth of the rate where the smoothed loss is lowest/);
      }
    } finally {
      delete process.env['TLR_CACHE'];
    }
  }, 120_000);
});
