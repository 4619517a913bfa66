import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { FreezableBatchNorm } from '../../../../src/engines/tfjs/tf-layers/layers.js';
import { registerWasmGradients } from '../../../../src/engines/tfjs/kernels/wasm-grads.js';
import { registerWasmOverrides } from '../../../../src/engines/tfjs/kernels/wasm-overrides.js';
import { runStage, type StageRun } from '../../../../src/engines/tfjs/train/loop.js';
import { ShardTrainer, shardRows } from '../../../../src/engines/tfjs/train/data-parallel.js';
import type { BatchSource, XY } from '../../../../src/engines/tfjs/train/batch-sources.js';
import { Events } from '../../../../src/runtime/events.js';
import { labelTable } from '../../../../src/runtime/targets.js';
import type { PlanStage } from '../../../../src/contracts/plan.js';

// Data-parallel training on worker threads (wasm): the weights after some steps are the ones one
// thread reaches, within float rounding; frozen weights keep their bits; nothing leaks; BatchNorm
// layers that train normalise per shard, and their moving mean is still the whole batch's.

const SHAPE = [6, 6, 4],
  CLASSES = 3;

/** A frozen convolution, a trained one with BatchNorm, a strided one, a dense head: seeded, so two builds are equal. */
function model(keepStatistics: boolean): tf.LayersModel {
  const input = tf.input({ shape: SHAPE });
  const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });
  let x = tf.layers
    .conv2d({
      filters: 5,
      kernelSize: 3,
      padding: 'same',
      name: 'frozen',
      trainable: false,
      kernelInitializer: seed(1),
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'conv', kernelInitializer: seed(2) })
    .apply(x) as tf.SymbolicTensor;
  const bn = new FreezableBatchNorm({ name: 'bn' });
  bn.keepStatistics = keepStatistics;
  x = tf.layers.activation({ activation: 'relu' }).apply(bn.apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', name: 'strided', kernelInitializer: seed(3) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: CLASSES, name: 'head', kernelInitializer: seed(4) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Fixed batches (10 and 7 rows: shards of unequal size). */
function source(): BatchSource {
  const sizes = [10, 7, 10];
  return {
    size: sizes.reduce((a, b) => a + b),

    decodes: false,
    async *batches(): AsyncGenerator<XY> {
      for (const [i, n] of sizes.entries()) {
        const x = tf.randomUniform([n, ...SHAPE], -1, 1, 'float32', 10 + i);
        const y = Int32Array.from({ length: n }, (_, k) => (k * 7 + i) % CLASSES);
        yield { x, y, ids: Int32Array.from({ length: n }, (_, k) => k) };
      }
    },
  };
}

const stage = {
  epochs: 2,
  batch: 10,
  optimizer: 'adam',
  lr: { initial: 0.01, schedule: { kind: 'constant' } },
  earlyStop: null,
} as unknown as PlanStage;

async function train(
  m: tf.LayersModel,
  trainer: ShardTrainer | null,
  classWeights: Float32Array | null = null,
  microBatch?: number,
): Promise<void> {
  const run: StageRun = {
    stageIndex: 0,
    stage,
    model: m,
    train: source(),
    classes: CLASSES,
    classWeights,
    probabilities: false,
    seed: 1,
    events: new Events(),
    startEpoch: 0,
    validate: async () => ({ loss: 0, accuracy: 0 }),
    stopped: () => false,
    onEpoch: async () => false,
    trainer,
    microBatch,
  };
  await runStage(run);
}

const values = (m: tf.LayersModel) =>
  m.weights.map((w) => ({ name: w.originalName, v: w.read().dataSync() as Float32Array }));
type Values = ReturnType<typeof values>;

/** One epoch of `m` on `train` (no class weights, no validation), with `extra` over those settings. */
const oneEpoch = (m: tf.LayersModel, train: BatchSource, extra: Partial<StageRun> = {}) =>
  runStage({
    stageIndex: 0,
    stage: { ...stage, epochs: 1 } as PlanStage,
    model: m,
    train,
    classes: CLASSES,
    classWeights: null,
    probabilities: false,
    seed: 1,
    events: new Events(),
    startEpoch: 0,
    validate: async () => ({ loss: 0, accuracy: 0 }),
    stopped: () => false,
    onEpoch: async () => false,
    ...extra,
  });

function expectClose(a: Float32Array, b: Float32Array, what: string): void {
  const scale = Math.max(1e-3, ...Array.from(b, Math.abs));
  const worst = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
  expect(worst / scale, what).toBeLessThan(1e-4);
}

/**
 * Frozen weights and the kept moving statistics keep their bits (`before`); the rest moved, to the weights one thread
 * reached on whole batches (`reference`).
 */
function expectLikeOneThread(before: Values, got: Values, reference: Values): void {
  for (const [i, w] of got.entries()) {
    if (w.name.startsWith('frozen') || w.name.includes('moving'))
      expect(Array.from(w.v), w.name).toEqual(Array.from(before[i]!.v));
    else {
      expect(Array.from(w.v), `${w.name} moved`).not.toEqual(Array.from(before[i]!.v));
      expectClose(w.v, reference[i]!.v, w.name);
    }
  }
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmGradients();
  registerWasmOverrides();
});

describe('shardRows', () => {
  it('cuts rows as evenly as can be, and leaves empty shards out', () => {
    expect(shardRows(10, 3)).toEqual([
      [0, 4],
      [4, 7],
      [7, 10],
    ]);
    expect(shardRows(2, 3)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(shardRows(8, 2)).toEqual([
      [0, 4],
      [4, 8],
    ]);
  });
});

describe('data-parallel training (BatchNorm statistics kept)', () => {
  const trainers: ShardTrainer[] = [];
  afterAll(async () => {
    for (const t of trainers) await t.close();
  });

  for (const workers of [1, 2]) {
    it(`${workers + 1} threads reach one thread's weights; frozen weights keep their bits; nothing leaks`, async () => {
      const one = model(true),
        many = model(true);
      const before = values(many);
      const t = await ShardTrainer.start(many, workers, 'wasm');
      trainers.push(t);
      await train(one, null, Float32Array.from([1, 2, 0.5]));
      const tensors = tf.memory().numTensors;
      await train(many, t, Float32Array.from([1, 2, 0.5]));
      expect(tf.memory().numTensors).toBe(tensors);
      const a = values(many),
        b = values(one);
      expectLikeOneThread(before, a, b);
      one.dispose();
      many.dispose();
    });
  }
});

describe('data-parallel training (BatchNorm statistics updated)', () => {
  it("each shard normalises by its own statistics; the moving mean is the whole batch's", async () => {
    const one = model(false),
      many = model(false);
    const t = await ShardTrainer.start(many, 1, 'wasm');
    try {
      const x = tf.randomUniform([10, ...SHAPE], -1, 1, 'float32', 99),
        y = Int32Array.from({ length: 10 }, (_, k) => k % CLASSES);
      const single: BatchSource = {
        size: 10,

        decodes: false,
        async *batches() {
          yield { x: x.clone(), y, ids: y };
        },
      };
      const runOne = (m: tf.LayersModel, trainer: ShardTrainer | null) => oneEpoch(m, single, { trainer });
      await runOne(one, null);
      await runOne(many, t);
      const stat = (m: tf.LayersModel, k: number) => m.getLayer('bn').getWeights()[k]!.dataSync() as Float32Array;
      expectClose(stat(many, 2), stat(one, 2), 'moving mean');
      // The moving variance leaves out the spread between the two shards' means: not the same.
      expect(Array.from(stat(many, 3))).not.toEqual(Array.from(stat(one, 3)));
      // Per-shard normalisation changes the gradients, so the trained weights differ from one batch's.
      const kernel = (m: tf.LayersModel) => m.getLayer('conv').getWeights()[0]!.dataSync() as Float32Array;
      expect(Math.max(...Array.from(kernel(many), (v, i) => Math.abs(v - kernel(one)[i]!)))).toBeGreaterThan(0);
      x.dispose();
    } finally {
      await t.close();
      one.dispose();
      many.dispose();
    }
  });
});

describe('micro-batches (a batch larger than the wasm heap holds, memory.ts)', () => {
  it("micro-batches of 3 reach the whole batch's weights; frozen weights keep their bits; nothing leaks", async () => {
    const one = model(true),
      micro = model(true);
    const before = values(micro);
    await train(one, null, Float32Array.from([1, 2, 0.5]));
    const tensors = tf.memory().numTensors;
    await train(micro, null, Float32Array.from([1, 2, 0.5]), 3);
    expect(tf.memory().numTensors).toBe(tensors);
    const a = values(micro),
      b = values(one);
    expectLikeOneThread(before, a, b);
    one.dispose();
    micro.dispose();
  });

  it("BatchNorm that trains: two micro-batches with the same rows give the whole batch's update and statistics", async () => {
    const one = model(false),
      micro = model(false);
    const half = tf.randomUniform([5, ...SHAPE], -1, 1, 'float32', 7);
    const x = tf.concat([half, half]),
      y = Int32Array.from({ length: 10 }, (_, k) => (k % 5) % CLASSES);
    const single: BatchSource = {
      size: 10,

      decodes: false,
      async *batches() {
        yield { x: x.clone(), y, ids: y };
      },
    };
    for (const [m, microBatch] of [
      [one, undefined],
      [micro, 5],
    ] as const)
      await oneEpoch(m, single, { microBatch });
    const a = values(micro),
      b = values(one);
    // The bias before a BatchNorm that trains has a gradient of 0 up to rounding, which Adam scales up to whole steps.
    for (const [i, w] of a.entries()) if (w.name !== 'conv/bias') expectClose(w.v, b[i]!.v, w.name);
    tf.dispose([half, x]);
    one.dispose();
    micro.dispose();
  });
});

describe('an epoch that waits on its data', () => {
  it('says that data loading limited it, with the images/s reached and what the network alone ran', async () => {
    const slow: BatchSource = {
      size: 20,

      decodes: true,
      async *batches(): AsyncGenerator<XY> {
        for (let i = 0; i < 2; i++) {
          await new Promise((done) => setTimeout(done, 150));
          const x = tf.randomUniform([10, ...SHAPE], -1, 1, 'float32', i);
          yield { x, y: Int32Array.from({ length: 10 }, (_, k) => k % CLASSES), ids: new Int32Array(10) };
        }
      },
    };
    const m = model(true);
    const events = new Events(),
      warnings: string[] = [];
    events.on((e) => {
      if (e.type === 'warning') warnings.push(e.message);
    });
    await oneEpoch(m, slow, { events });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^stage 1, epoch 1: data loading limited this stage to \d+ images\/s; the network alone runs [\d,]+/,
    );
    const [limited, alone] = /to (\d+) images.*runs ([\d,]+)/
      .exec(warnings[0]!)!
      .slice(1)
      .map((v) => Number(v.replace(/,/g, '')));
    expect(limited!).toBeLessThan(80); // 20 images in over 0.3 s
    expect(alone!).toBeGreaterThan(limited!);
    m.dispose();
  });
});

describe('a multi-label head (sigmoid per label, positive weights)', () => {
  it("worker threads and micro-batches reach one thread's weights; the loss is not the softmax one", async () => {
    // Labels are codes of label sets: rows of the table (codes 0, 1, 2 are {0, 2}, {1} and no label).
    const multi = {
      labels: CLASSES,
      table: labelTable([[0, 2], [1], []], CLASSES),
      posWeights: Float32Array.from([2, 0.5, 1]),
    };
    const [one, many, micro, single] = [model(true), model(true), model(true), model(true)];
    const before = values(many);
    const t = await ShardTrainer.start(many, 1, 'wasm');
    try {
      await oneEpoch(one, source(), { multi });
      const tensors = tf.memory().numTensors;
      await oneEpoch(many, source(), { multi, trainer: t });
      await oneEpoch(micro, source(), { multi, microBatch: 3 });
      expect(tf.memory().numTensors).toBe(tensors);
      await oneEpoch(single, source());
      expectLikeOneThread(before, values(many), values(one));
      expectLikeOneThread(before, values(micro), values(one));
      const head = (m: tf.LayersModel) => values(m).find((w) => w.name.startsWith('head'))!.v;
      expect(Array.from(head(one))).not.toEqual(Array.from(head(single)));
    } finally {
      await t.close();
      for (const m of [one, many, micro, single]) m.dispose();
    }
  });
});
