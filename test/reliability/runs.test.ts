import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src/engines/tfjs/tf.js';
import { compile } from '../../src/compiler/index.js';
import { run } from '../../src/engines/tfjs/run.js';
import { Events, type RunEvent } from '../../src/runtime/events.js';
import { NonFiniteLoss, runStage } from '../../src/engines/tfjs/train/loop.js';
import { FeatureSource } from '../../src/engines/tfjs/train/batch-sources.js';
import { loadOrt } from '../../src/engines/tfjs/onnx/runtime.js';
import { writeReportHtml } from '../../src/report/report-html.js';
import { makeWorld, recipe } from '../helpers/run-fixture.js';

// Runs that go wrong: a damaged feature cache is recomputed, a diverging loss stops the stage with
// a clear error and keeps what was saved, a stop request is seen on cached-feature stages too.

async function go(file: string, cache: string, opts: { stopAfter?: number; resume?: string } = {}) {
  const c = compile(fs.readFileSync(file, 'utf8'), { file });
  const seen: RunEvent[] = [];
  const events = new Events();
  events.on((e) => seen.push(e));
  let batches = 0;
  events.on((e) => {
    if (e.type === 'batch') batches++;
  });
  const r = await run({
    plan: c.plan!,
    recipeText: '',
    events,
    backend: 'wasm',
    resume: opts.resume,
    stopped: () => opts.stopAfter !== undefined && batches >= opts.stopAfter,
    env: { ...process.env, TLR_CACHE: cache, TLR_WORKERS: '0' },
  });
  return { r, seen };
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('feature cache entries are verified', () => {
  const damage: [string, (json: string, f32: string) => void][] = [
    [
      'random bytes over part of the data',
      (_j, f) => {
        const b = fs.readFileSync(f);
        b.fill(0x7f, 8, 64);
        fs.writeFileSync(f, b);
      },
    ],
    [
      'permuted labels',
      (j) => {
        const m = JSON.parse(fs.readFileSync(j, 'utf8'));
        m.labels.reverse();
        m.labels[0] = 99999;
        fs.writeFileSync(j, JSON.stringify(m));
      },
    ],
    [
      'a count of 0',
      (j) => {
        const m = JSON.parse(fs.readFileSync(j, 'utf8'));
        m.count = 0;
        fs.writeFileSync(j, JSON.stringify(m));
      },
    ],
    ['invalid JSON', (j) => fs.writeFileSync(j, '{"count": ')],
    ['a truncated data file', (_j, f) => fs.truncateSync(f, 100)],
  ];
  // Features for a head (read whole) and a split stage's frozen-part outputs (read a batch at a time, checked as a
  // stream).
  const stages: [string, string][] = [
    ['features', ''],
    ['frozen-part outputs', '\n  freeze until block11'],
  ];
  it.each(stages.flatMap(([kind, clause]) => damage.map(([what, hurt]) => [kind, what, clause, hurt] as const)))(
    '%s, %s: the entry is recomputed with a warning, and the run trains on good features',
    async (_kind, _what, clause, hurt) => {
      const w = makeWorld({ perClass: 6 });
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data lr ` +
          `0.01${clause}\nsplit 50/50\n`,
      );
      const cache = path.join(w.dir, 'cache');
      const first = await go(f, cache);
      const dir = path.join(cache, 'features');
      const train = first.seen.find((e) => e.type === 'features' && e.split === 'train' && e.phase === 'done') as {
        key: string;
      };
      const before = fs.readFileSync(path.join(dir, `${train.key}.f32`));
      hurt(path.join(dir, `${train.key}.json`), path.join(dir, `${train.key}.f32`));
      const second = await go(f, cache);
      expect(second.seen.some((e) => e.type === 'warning' && /feature cache entry is damaged/.test(e.message))).toBe(
        true,
      );
      expect(
        second.seen.find((e) => e.type === 'features' && e.split === 'train' && e.phase !== 'progress'),
      ).toMatchObject({ phase: 'done' });
      expect(fs.readFileSync(path.join(dir, `${train.key}.f32`)).equals(before)).toBe(true);
      expect(second.r.evaluation!.accuracy).toBe(first.r.evaluation!.accuracy);
    },
    30_000,
  );
});

describe('stopping and resuming', () => {
  // 12 training images in batches of 5: three batches an epoch (the last one partial), 12 in all.
  it.each([1, 5, 9])(
    'a stop after batch %i (mid-epoch, first stage included) then --resume ends with the weights of ' +
      'an uninterrupted run',
    async (after) => {
      const w = makeWorld({ perClass: 8 });
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data lr ` +
          `0.01\n  batch 5\nthen unfreeze from block13 train 2 epochs\nsplit 50/50\n`,
      );
      const ref = await go(f, path.join(w.dir, 'c1'));
      const stopped = await go(f, path.join(w.dir, 'c2'), { stopAfter: after });
      expect(stopped.r.status).toBe('interrupted');
      const resumed = await go(f, path.join(w.dir, 'c2'), { resume: stopped.r.runDir });
      expect(resumed.r.status).toBe('finished');
      const bin = (d: string) => fs.readFileSync(path.join(d, 'model', 'weights.bin'));
      expect(bin(resumed.r.runDir).equals(bin(ref.r.runDir))).toBe(true);
    },
    30_000,
  );

  it("a process killed between replacing its checkpoint's two renames: --resume takes the old checkpoint back " +
    'and leaves nothing beside it', async () => {
    const w = makeWorld({ perClass: 8 });
    const f = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 3 epochs on ./data lr ` +
        `0.01\n  batch 5\nsplit 50/50\n`,
    );
    const stopped = await go(f, path.join(w.dir, 'c'), { stopAfter: 7 });
    const dir = stopped.r.runDir,
      state = fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8');
    expect(JSON.parse(state).epoch).toBeGreaterThan(0);
    // What a kill after `rename(checkpoint, old)` leaves: no checkpoint, the old one under a dead process's name.
    fs.renameSync(path.join(dir, 'checkpoint'), path.join(dir, '.checkpoint.old-999999999-0a0b0c'));
    const resumed = await go(f, path.join(w.dir, 'c'), { resume: dir });
    expect(resumed.r.status).toBe('finished');
    // It went on from the checkpoint's epoch: no epoch trained twice, none lost.
    const lines = fs
      .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).epoch);
    expect(lines).toEqual([1, 2, 3]);
    expect(resumed.seen.filter((e) => e.type === 'epoch').map((e) => e.type === 'epoch' && e.epoch)).toEqual(
      Array.from({ length: 3 - JSON.parse(state).epoch }, (_, i) => JSON.parse(state).epoch + 1 + i),
    );
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.checkpoint'))).toEqual([]);
  }, 30_000);
});

describe('training that goes wrong', () => {
  it('the training loop stops at the first batch whose loss is not finite, naming it', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [1, 1, 1, 1],
      [NaN, 0, 0, 0],
      [2, 2, 2, 2],
    ]);
    const train = new FeatureSource(x as tf.Tensor2D, Int32Array.from([0, 1, 2, 0]));
    const stage = compile(
      `from resnet18 weights none\ntrain 1 epoch on ` +
        `${path.resolve(__dirname, '../fixtures/data/flowers')}\n  batch 2\n`,
      { file: path.join(__dirname, 'r.tlr') },
    ).plan!.stages[0]!;
    const err = await runStage({
      stageIndex: 0,
      stage,
      model,
      train,
      validate: async () => ({ loss: 0, accuracy: 0 }),
      classes: 3,
      classWeights: null,
      probabilities: false,
      seed: 1,
      events: new Events(),
      startEpoch: 0,
      stopped: () => false,
      onEpoch: async () => false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLoss);
    expect((err as Error).message).toMatch(/^stage 1, epoch 1, batch 2: the loss is NaN \(training diverged\)/);
    x.dispose();
    model.dispose();
  });

  // ONNX Runtime carries the NaN through ReLU6; XNNPACK's clamp turns it into a number, so on
  // TensorFlow.js these poisoned weights do not diverge at all (the loop test above covers it).
  it.skipIf(!('ort' in loadOrt()))(
    'a loss that turns NaN stops the run with an error naming the stage, epoch and batch and suggesting a lower rate',
    async () => {
      const w = makeWorld({ perClass: 6 });
      // Weights that overflow: the backbone's last convolution set to infinity makes the features infinite or NaN.
      const json = JSON.parse(fs.readFileSync(w.weights, 'utf8'));
      const bin = fs.readFileSync(path.join(path.dirname(w.weights), 'weights.bin'));
      const f32 = new Float32Array(bin.buffer, bin.byteOffset, bin.length / 4);
      let at = 0;
      for (const spec of json.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
        const n = spec.shape.reduce((a, b) => a * b, 1);
        if (spec.name === 'conv_pw_13/kernel') for (let i = at; i < at + n; i++) f32[i] = Infinity;
        at += n;
      }
      fs.writeFileSync(path.join(path.dirname(w.weights), 'weights.bin'), bin);
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data lr ` +
          `0.01\nsplit 50/50\n`,
      );
      const plan = compile(fs.readFileSync(f, 'utf8'), { file: f }).plan!;
      const err = await run({
        plan,
        recipeText: '',
        events: new Events(),
        backend: 'wasm',
        env: { ...process.env, TLR_CACHE: path.join(w.dir, 'cache'), TLR_WORKERS: '0' },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NonFiniteLoss);
      expect((err as Error).message).toMatch(
        /^stage 1, epoch 1, batch 1: the loss is (NaN|-?Infinity) \(training diverged\); what earlier epochs saved .* is kept\. Try a lower learning rate than 0\.01 \(`lr 0\.001`\)/,
      );
    },
    30_000,
  );

  it('a report of a run with values it could not compute renders them as n/a', async () => {
    const w = makeWorld({ perClass: 6 });
    const f = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 1 epoch on ./data lr ` +
        `0.01\nsplit 50/50\n`,
    );
    const { r } = await go(f, path.join(w.dir, 'cache'));
    // The run's own report and metrics, with the values a run could not compute (NaN) as JSON holds them: null.
    const reportFile = path.join(r.runDir, 'report.json');
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    report.best.value = null;
    report.evaluation.loss = null;
    fs.writeFileSync(reportFile, JSON.stringify(report));
    const rows = fs.readFileSync(path.join(r.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const last = { ...JSON.parse(rows.at(-1)!), epoch: 2, loss: null, val_loss: null, best: false };
    fs.appendFileSync(path.join(r.runDir, 'metrics.jsonl'), `${JSON.stringify(last)}\n`);
    const html = fs.readFileSync(await writeReportHtml(r.runDir), 'utf8');
    expect(html).toContain('n/a');
  }, 30_000);

  it('a stop request is seen after the current batch on a stage that trains on cached features', async () => {
    const w = makeWorld({ perClass: 8 });
    const f = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 50 epochs on ./data lr ` +
        `0.01\n  batch 4\nsplit 50/50\n`,
    );
    // The stop comes from a timer (a macrotask), as a signal handler would.
    let stop = false;
    const c = compile(fs.readFileSync(f, 'utf8'), { file: f });
    const seen: RunEvent[] = [];
    const events = new Events();
    events.on((e) => {
      seen.push(e);
      if (e.type === 'batch' && e.epoch === 2 && e.batch === 1)
        setTimeout(() => {
          stop = true;
        }, 0);
    });
    const r = await run({
      plan: c.plan!,
      recipeText: '',
      events,
      backend: 'wasm',
      stopped: () => stop,
      env: { ...process.env, TLR_CACHE: path.join(w.dir, 'cache'), TLR_WORKERS: '0' },
    });
    expect(r.status).toBe('interrupted');
    const epochs = seen.filter((e) => e.type === 'epoch').length;
    expect(epochs).toBeLessThan(3);
  }, 30_000);
});
