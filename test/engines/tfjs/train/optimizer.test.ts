import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import {
  BlockRates,
  learningRate,
  ONE_CYCLE_END,
  ONE_CYCLE_START,
  stageOptimizer,
} from '../../../../src/engines/tfjs/train/optimizer.js';
import { loadOptimizer, saveOptimizer } from '../../../../src/engines/tfjs/optimizer-state.js';
import type { PlanSchedule, PlanStage } from '../../../../src/contracts/plan.js';
import type { ModelInfo } from '../../../../src/zoo/catalog.js';

// The rate at every batch (one-cycle, warm-up) and `lr LOW..HIGH`'s rate per block: each group's
// variables move by their own rate, the head's by the stage's, and a checkpoint keeps every group.

const stageWith = (
  schedule: PlanSchedule,
  epochs = 4,
  extra: Partial<PlanStage['lr']> = {},
  optimizer = 'adam',
): PlanStage => ({ epochs, optimizer, lr: { initial: 0.01, schedule, ...extra } }) as unknown as PlanStage;

describe('learning-rate schedules', () => {
  it('one-cycle rises from rate/25 over a quarter of the stage, peaks, then falls to rate/1e4', () => {
    const s = stageWith({ kind: 'one-cycle' }),
      batches = 10,
      total = 40;
    const rates = Array.from({ length: total }, (_, t) =>
      learningRate(s, Math.floor(t / batches), t % batches, batches),
    );
    expect(rates[0]).toBeCloseTo(0.01 * ONE_CYCLE_START, 12);
    expect(rates[10]).toBeCloseTo(0.01, 12);
    expect(Math.max(...rates)).toBeCloseTo(0.01, 12);
    expect(rates[total - 1]).toBeCloseTo(0.01 * ONE_CYCLE_END, 12);
    for (let t = 1; t <= 10; t++) expect(rates[t]!).toBeGreaterThan(rates[t - 1]!);
    for (let t = 11; t < total; t++) expect(rates[t]!).toBeLessThan(rates[t - 1]!);
  });

  it('one-cycle with `warmup N` rises over N epochs', () => {
    const s = stageWith({ kind: 'one-cycle', warmup: 2 });
    expect(learningRate(s, 2, 0, 10)).toBeCloseTo(0.01, 12);
    expect(learningRate(s, 1, 0, 10)).toBeCloseTo(0.01 * (ONE_CYCLE_START + (1 - ONE_CYCLE_START) / 2), 12);
  });

  it('a warm-up ramps linearly per batch, then the schedule takes over', () => {
    const s = stageWith({ kind: 'cosine', warmup: 0.5 });
    expect(learningRate(s, 0, 0, 10)).toBeCloseTo(0.01 / 5, 12);
    expect(learningRate(s, 0, 4, 10)).toBeCloseTo(0.01, 12);
    expect(learningRate(s, 0, 9, 10)).toBeCloseTo(0.01, 12);
    expect(learningRate(s, 2, 0, 10)).toBeCloseTo(0.005, 12);
    // Without a warm-up, the per-epoch schedules are what they were.
    expect(learningRate(stageWith({ kind: 'step', factor: 0.5, every: 2 }), 3, 7, 10)).toBeCloseTo(0.005, 12);
    expect(learningRate(stageWith({ kind: 'constant' }), 3, 7, 10)).toBe(0.01);
  });
});

/** A two-layer model whose layers the catalog puts in two blocks, plus a head layer. */
function model(): { m: tf.LayersModel; info: ModelInfo } {
  const input = tf.input({ shape: [3] });
  const a = tf.layers
    .dense({ units: 4, name: 'low', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })
    .apply(input) as tf.SymbolicTensor;
  const b = tf.layers
    .dense({
      units: 4,
      name: 'high',
      activation: 'tanh',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(a) as tf.SymbolicTensor;
  const h = tf.layers
    .dense({ units: 2, name: 'head.0', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
    .apply(b) as tf.SymbolicTensor;
  const info = {
    layers: [
      { name: 'low', index: 0 },
      { name: 'high', index: 1 },
    ],
  } as unknown as ModelInfo;
  return { m: tf.model({ inputs: input, outputs: h }), info };
}

const blocks = [
  { block: 'b1', from: 0, lr: 1e-4 },
  { block: 'b2', from: 1, lr: 1e-3 },
];
const x = () =>
  tf.tensor2d([
    [0.1, -0.4, 0.8],
    [0.5, 0.2, -0.3],
  ]);
const loss = (m: tf.LayersModel) => () => (m.apply(x()) as tf.Tensor).square().mean() as tf.Scalar;
const kernel = (m: tf.LayersModel, name: string) => m.getLayer(name).getWeights()[0]!.arraySync() as number[][];

describe('a rate per block (lr LOW..HIGH)', () => {
  it(
    "moves each block by its own rate and the head by the stage's (one SGD step: " + 'delta = rate × gradient)',
    async () => {
      await tf.setBackend('cpu');
      const { m, info } = model();
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(loss(m), vars);
      const before = Object.fromEntries(['low', 'high', 'head.0'].map((n) => [n, kernel(m, n)]));
      const opt = stageOptimizer(stageWith({ kind: 'constant' }, 1, { blocks }, 'sgd'), m, info);
      expect(opt).toBeInstanceOf(BlockRates);
      tf.dispose(opt.minimize(loss(m), false, vars) ?? undefined);
      for (const [name, rate] of [
        ['low', 1e-4],
        ['high', 1e-3],
        ['head.0', 0.01],
      ] as const) {
        const v = vars.find((w) => w.name.startsWith(`${name}/kernel`))!;
        const g = grads[v.name]!.arraySync() as number[][];
        const after = kernel(m, name);
        // float32 weights: the delta is exact to about 1e-7 of the weight, not of the delta.
        after.forEach((row, i) => {
          row.forEach((val, j) => {
            expect(Math.abs(before[name]![i]![j]! - val - rate * g[i]![j]!)).toBeLessThan(1e-7 * Math.abs(val) + 1e-12);
          });
        });
        expect(Math.abs(before[name]![0]![0]! - after[0]![0]!)).toBeGreaterThan(0.5 * rate * Math.abs(g[0]![0]!));
        expect(Math.abs(g[0]![0]!)).toBeGreaterThan(0);
      }
      tf.dispose(Object.values(grads));
      opt.dispose();
    },
  );

  it("sets every group's rate from the stage's, and a checkpoint restores every group exactly", async () => {
    await tf.setBackend('cpu');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-blocks-'));
    const stage = stageWith({ kind: 'constant' }, 1, { blocks });
    const a = model(),
      b = model();
    const optA = stageOptimizer(stage, a.m, a.info);
    const step = (opt: tf.Optimizer, m: tf.LayersModel) =>
      tf.dispose(
        opt.minimize(
          loss(m),
          false,
          m.trainableWeights.map((w) => w.read() as tf.Variable),
        ) ?? undefined,
      );
    for (let i = 0; i < 3; i++) step(optA, a.m);
    b.m.setWeights(a.m.getWeights());
    const before = tf.memory().numTensors;
    await saveOptimizer(optA, dir);
    expect(tf.memory().numTensors).toBe(before);
    const optB = stageOptimizer(stage, b.m, b.info);
    expect(await loadOptimizer(optB, dir)).toBe(true);
    (optA as BlockRates).setLearningRate(0.02);
    (optB as BlockRates).setLearningRate(0.02);
    for (let i = 0; i < 2; i++) {
      step(optA, a.m);
      step(optB, b.m);
    }
    for (const n of ['low', 'high', 'head.0']) expect(kernel(b.m, n)).toEqual(kernel(a.m, n));
    // A fresh optimizer in place of the restored one ends elsewhere: the comparison is not vacuous.
    const c = model();
    c.m.setWeights(b.m.getWeights());
    step(optB, b.m);
    step(stageOptimizer(stage, c.m, c.info), c.m);
    expect(kernel(c.m, 'low')).not.toEqual(kernel(b.m, 'low'));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is one plain optimizer when the plan gives no blocks', () => {
    const { m, info } = model();
    expect(stageOptimizer(stageWith({ kind: 'constant' }), m, info)).not.toBeInstanceOf(BlockRates);
  });
});
