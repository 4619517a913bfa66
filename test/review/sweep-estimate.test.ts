import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { planCompute, sweepComputes } from '../../src/review/compute.js';
import { estimates, sweepEstimates } from '../../src/cli/estimate-text.js';
import { engines } from '../../src/engines/index.js';
import { writeCalibration, type Calibration } from '../../src/runtime/calibration.js';
import type { Plan } from '../../src/contracts/plan.js';

// A sweep's cost counts what its variants share once: the backbone features that variants differing only in their
// head or rate read from one cache are computed by the first; a rerun (warm) computes none; an engine that loads once
// for the whole sweep starts once.

const QUICKSTART = path.resolve(__dirname, '../../recipes/quickstart');
const plansOf = (text: string): Plan[] =>
  compile(text, { file: path.join(QUICKSTART, 'bench.tlr'), sweeps: true }).sweep!.variants.map((v) => v.plan!);
const SWEEP = `from mobilenet_v2 width 0.35
head {dense(4), dense(64) dense(4)}
train 30 epochs on ./clothes
  lr {0.003, 0.001, 0.0003}
split 70/15/15
`;
// Two networks: nothing shared between them, the rates within each share.
const TWO = SWEEP.replace('from mobilenet_v2 width 0.35', 'from {mobilenet_v2 width 0.35, mobilenet_v1 width 0.25}');
// A first stage that trains the backbone: the second stage's prefix comes from weights no other run has.
const TRAINED = `from mobilenet_v1 width 0.25
freeze until block8
train 2 epochs on ./clothes
  lr {0.003, 0.001}
then freeze until block4 train 2 epochs
`;

const onceOf = (plans: Plan[]) => plans.map((p) => planCompute(p).stages.reduce((t, s) => t + s.once, 0));
const totalOf = (cs: { total: number }[]) => cs.reduce((t, c) => t + c.total, 0);

describe('sweep compute: what variants share counted once', () => {
  it('six variants on one feature cache: the first fills it, the rest read it; warm, none does', () => {
    const plans = plansOf(SWEEP);
    const once = onceOf(plans);
    expect(plans.length).toBe(6);
    expect(new Set(once).size).toBe(1);
    const cold = sweepComputes(plans, false);
    expect(cold.map((c) => c.stages[0]!.once)).toEqual([once[0], 0, 0, 0, 0, 0]);
    const alone = totalOf(plans.map(planCompute));
    expect(totalOf(cold)).toBeCloseTo(alone - 5 * once[0]!, -3);
    expect(totalOf(sweepComputes(plans, true))).toBeCloseTo(alone - 6 * once[0]!, -3);
  });

  it('two networks: each fills its own cache once', () => {
    const cold = sweepComputes(plansOf(TWO), false);
    expect(cold.filter((c) => c.stages[0]!.once > 0).length).toBe(2);
  });

  it('a stage after one that trained the backbone pays in every variant, cold or warm', () => {
    const plans = plansOf(TRAINED);
    const stage = (i: number, cs: ReturnType<typeof sweepComputes>) => cs.map((c) => c.stages[i]!.once > 0);
    expect(stage(0, sweepComputes(plans, false))).toEqual([true, false]);
    expect(stage(1, sweepComputes(plans, true))).toEqual([true, true]);
  });
});

describe('sweep time per engine', () => {
  let cache: string;
  const saved = process.env['TLR_CACHE'];
  const rates: Calibration = {
    forward: 20e9,
    training: 5e9,
    perBatch: 0.01,
    perLayerBatch: 0.001,
    startup: 3,
    measured: 'test',
    how: 'written by the test',
  };
  beforeAll(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-estimate-'));
    process.env['TLR_CACHE'] = cache;
    for (const e of engines()) for (const kind of ['depthwise', 'conv'] as const) writeCalibration(e.name, kind, rates);
  });
  afterAll(() => {
    if (saved === undefined) delete process.env['TLR_CACHE'];
    else process.env['TLR_CACHE'] = saved;
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it('starts once where the engine runs every variant in one process, per variant where each is its own', () => {
    const plans = plansOf(SWEEP);
    const fill = onceOf(plans)[0]! / rates.forward;
    const sweep = sweepEstimates(plans);
    expect(sweep.length).toBeGreaterThan(0);
    for (const t of sweep) {
      const e = engines().find((x) => x.name === t.engine)!;
      const alone = plans.reduce((s, p) => s + estimates(p).find((x) => x.engine === t.engine)!.seconds!, 0);
      const starts = e.startsPerRun ? 0 : 5 * rates.startup;
      expect(t.seconds!).toBeCloseTo(alone - 5 * fill - starts, 6);
      expect(t.warm!).toBeCloseTo(t.seconds! - fill, 6);
      expect(t.perVariant.reduce((a, b) => a! + b!, 0)!).toBeCloseTo(t.seconds!, 6);
      expect(t.perVariant[0]!).toBeGreaterThan(t.perVariant[1]!);
    }
  });
});
