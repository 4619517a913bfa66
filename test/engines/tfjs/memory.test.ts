import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { compile } from '../../../src/compiler/index.js';
import type { Plan } from '../../../src/contracts/plan.js';
import { memoryNotes, memoryUnsupported, stageMemory, STEP_BUDGET } from '../../../src/engines/tfjs/memory.js';
import { FAMILIES } from '../../../src/zoo/catalog.js';
import { makeWorld } from '../../helpers/run-fixture.js';
import { tlr, tlrAsync } from '../../helpers/cli.js';
import { HEAVY, SKIP_HEAVY } from '../../helpers/heavy.js';

// Training steps on wasm fit its 4 GiB heap: a stage whose batch would not fit runs as
// micro-batches (the model of memory.ts is measured against tf.profile's peak here), one that
// cannot fit at all is refused before anything starts, naming the torch engine, and `tlr plan`
// says both beforehand. With TLR_HEAVY=1 every zoo family trains whole for a step at 224.

let dir = '',
  weights = '';
beforeAll(() => {
  ({ dir, weights } = makeWorld({ perClass: 4 }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function planOf(text: string): Plan {
  const file = path.join(dir, 'r.tlr');
  fs.writeFileSync(file, text);
  const c = compile(text, { file });
  expect(c.plan, JSON.stringify(c.diagnostics)).toBeTruthy();
  return c.plan!;
}

const whole = (model: string, batch = 32) =>
  `from ${model} weights none\nhead dense(3)\ntrain 1 epochs on ./data\n  batch ${batch}\nsplit 50/25/25\n`;

describe("a training step's memory on wasm", () => {
  it('splits a batch that does not fit into micro-batches, and says so in tlr plan', () => {
    const plan = planOf(whole('mobilenet_v2 width 0.35'));
    const m = stageMemory(plan, plan.stages[0]!)!;
    expect(m.batchBytes).toBeGreaterThan(STEP_BUDGET);
    expect(m.micro).toBeGreaterThan(1);
    expect(m.micro).toBeLessThan(32);
    expect(m.fixed + m.micro * m.perImage).toBeLessThanOrEqual(STEP_BUDGET);
    expect(memoryNotes(plan)[0]).toMatch(
      /batch 32 needs about \d+\.\d GB; on wasm it runs as \d+ micro-batches of \d+/,
    );
    const r = tlr('plan', path.join(dir, 'r.tlr'));
    expect(r.out).toMatch(/tfjs: stage 1: a step of batch 32 needs about/);
  });

  it('leaves a head on features, and a batch that fits, alone', () => {
    const head = planOf(`from mobilenet_v1 width 0.25 weights ${weights}\nhead dense(3)\ntrain 1 epochs on ./data\n`);
    expect(stageMemory(head, head.stages[0]!)).toBeNull();
    const small = planOf(whole('mobilenet_v1 width 0.25 input 64', 8));
    expect(stageMemory(small, small.stages[0]!)!.micro).toBe(8);
    expect(memoryNotes(small)).toEqual([]);
  });

  it('refuses a stage that cannot fit at all, before any folder is made, and names the torch engine', async () => {
    const plan = planOf(whole('vgg16'));
    expect(memoryUnsupported(plan)).toMatch(
      /stage 1 trains 134,\d{3},\d{3} backbone parameters of vgg16.*--engine torch/,
    );
    expect(tlr('plan', path.join(dir, 'r.tlr')).out).toMatch(/tfjs \(default\): no \(stage 1 trains .*--engine torch/);
    const r = await tlrAsync('run', path.join(dir, 'r.tlr'));
    expect(r.code).not.toBe(0);
    expect(r.out + r.err).toMatch(/past the 3\.0 GB a step may use of wasm's 4\.0 GB heap/);
    expect(fs.existsSync(path.join(dir, 'runs'))).toBe(false);
  });

  it("is an upper bound on tf.profile's peak for a micro-batch step (MobileNet V1 at 128)", async () => {
    const plan = planOf(whole('mobilenet_v1 width 0.5 input 128', 8));
    const m = stageMemory(plan, plan.stages[0]!)!;
    const peak = await stepPeak(plan, 4);
    expect(peak).toBeLessThanOrEqual(m.fixed + 4 * m.perImage);
    // …and not a wild one: within 3x.
    expect(peak * 3).toBeGreaterThan(m.fixed + 4 * m.perImage);
  }, 60_000);
});

/** tf.profile's peak bytes over one micro-batch step of `rows` rows, the whole network training. */
async function stepPeak(plan: Plan, rows: number, micro = rows): Promise<number> {
  const { tf } = await import('../../../src/engines/tfjs/tf.js');
  const { chooseBackend } = await import('../../../src/engines/tfjs/backend.js');
  const { buildLayers } = await import('../../../src/engines/tfjs/tf-layers/build.js');
  const { makeHead, joinNetwork, setFrozen } = await import('../../../src/engines/tfjs/train/network.js');
  const { trainableVars } = await import('../../../src/engines/tfjs/train/shard-math.js');
  const { microBatchStep } = await import('../../../src/engines/tfjs/train/loop.js');
  const { describe: info, graphOf } = await import('../../../src/zoo/catalog.js');
  await chooseBackend('wasm');
  const i = info(plan.model.name, plan.model.width, plan.model.inputSize);
  const net = joinNetwork(
    buildLayers(graphOf(i.name, i.width, i.inputSize), i.featureLayer, i.name, 1),
    makeHead(i.featureSize, plan.head.layers, 1),
  );
  setFrozen(net, i, 0);
  const { makeOptimizer } = await import('../../../src/engines/tfjs/train/optimizer.js');
  const opt = makeOptimizer('adam', 1e-3);
  const x = tf.randomUniform([rows, i.inputSize, i.inputSize, 3]);
  const before = tf.memory().numBytes;
  const loss = { classes: 3, probabilities: false, classWeights: null };
  const y = Int32Array.from({ length: rows }, (_, k) => k % 3);
  const prof = await tf.profile(() => microBatchStep(net.full, opt, trainableVars(net.full), x, y, micro, loss));
  tf.dispose([x]);
  opt.dispose();
  net.full.dispose();
  return prof.peakBytes - before;
}

const heavy = HEAVY ? it : it.skip;

describe(`every zoo family trains whole at 224 with batch 32 on wasm${HEAVY ? '' : ` (${SKIP_HEAVY})`}`, () => {
  const ONE_EACH = [
    'alexnet',
    'vgg16',
    'resnet18',
    'resnet50',
    'densenet121',
    'inception_v3',
    'mobilenet_v1',
    'mobilenet_v2',
  ];
  for (const f of FAMILIES.filter((x) => ONE_EACH.includes(x.name))) {
    const widest = f.widths ? Math.max(...f.widths) : null;
    heavy(
      `${f.name}${widest ? ` width ${widest}` : ''}: two micro-batches as planned fit, or the plan refuses`,
      async () => {
        const plan = planOf(whole(`${f.name}${widest ? ` width ${widest}` : ''}`));
        const m = stageMemory(plan, plan.stages[0]!)!;
        if (m.micro === 0) {
          expect(memoryUnsupported(plan)).toMatch(/--engine torch/);
          return;
        }
        // The peak of a step does not grow with the number of micro-batches: two of the planned size stand for any.
        const peak = await stepPeak(plan, m.micro < 32 ? 2 * m.micro : 32, m.micro);
        expect(peak).toBeLessThanOrEqual(m.fixed + m.micro * m.perImage);
      },
      600_000,
    );
  }
});
