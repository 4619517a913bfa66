import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../src/engines/tfjs/tf.js';
import { compile } from '../../../src/compiler/index.js';
import { run } from '../../../src/engines/tfjs/run.js';
import { Events, type RunEvent } from '../../../src/runtime/events.js';
import { readTfjsModel } from '../../../src/runtime/weights/tfjs-format.js';
import { describe as catalog } from '../../../src/zoo/catalog.js';
import { makeWorld, recipe } from '../../helpers/run-fixture.js';
import { tlrAsync } from '../../helpers/cli.js';
import { loadOrt } from '../../../src/engines/tfjs/onnx/runtime.js';
import {
  convThreads,
  registerOrtKernels,
  unregisterOrtKernels,
} from '../../../src/engines/tfjs/kernels/ort-kernels.js';
import { decodeRgb, normalize } from '../../../src/runtime/images/image.js';
import { runFolderProblems } from '../../../src/contracts/read.js';

// Whole runs on tiny data: the run folder, the feature cache, frozen weights, leaks, Ctrl-C and
// resume, and predict/eval against the run's own report.

async function go(
  file: string,
  opts: { stopAfter?: number; resume?: string; cache: string; workers?: number; inference?: 'onnx' | 'tfjs' },
) {
  const text = fs.readFileSync(file, 'utf8');
  const c = compile(text, { file });
  expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const events = new Events();
  const seen: RunEvent[] = [];
  events.on((e) => seen.push(e));
  let batches = 0;
  events.on((e) => {
    if (e.type === 'batch') batches++;
  });
  const r = await run({
    plan: c.plan!,
    recipeText: text,
    events,
    resume: opts.resume,
    backend: 'wasm',
    stopped: () => opts.stopAfter !== undefined && batches >= opts.stopAfter,
    env: {
      ...process.env,
      TLR_CACHE: opts.cache,
      TLR_WORKERS: String(opts.workers ?? 0),
      ...(opts.inference ? { TLR_INFERENCE: opts.inference } : {}),
    },
  });
  return { r, seen, plan: c.plan! };
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('tlr run', () => {
  it('feature extraction: a complete run folder, cached features reused, no leaked tensors', async () => {
    const w = makeWorld();
    const f = recipe(
      w.dir,
      `recipe "fx"\nfrom mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 4 epochs ` +
        `on ./data lr 0.01\nsplit 60/20/20\n`,
    );
    const before = tf.memory().numTensors;
    const { r, seen } = await go(f, { cache: path.join(w.dir, 'cache') });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.status).toBe('finished');
    expect(fs.readdirSync(r.runDir).sort()).toEqual([
      'engine.json',
      'environment.json',
      'metrics.jsonl',
      'model',
      'plan.json',
      'predictions.csv',
      'recipe.tlr',
      'report.html',
      'report.json',
    ]);
    expect(fs.readdirSync(path.join(r.runDir, 'model')).sort()).toEqual([
      '.tlr-model',
      'labels.json',
      'model.json',
      'preprocessing.json',
      'weights.bin',
    ]);
    expect(fs.readFileSync(path.join(r.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(
      seen.filter((e) => e.type === 'features').map((e) => e.type === 'features' && `${e.split}:${e.phase}`),
    ).toContain('train:done');
    const report = JSON.parse(fs.readFileSync(path.join(r.runDir, 'report.json'), 'utf8'));
    expect(report.evaluation.split).toBe('test');
    expect(report.evaluation.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(
      report.evaluation.images,
    );

    // A second run, with only the head changed, reuses the backbone features.
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('head dense(3)', 'head dropout(0.1) dense(3)'));
    const again = await go(f, { cache: path.join(w.dir, 'cache') });
    const phases = again.seen
      .filter((e) => e.type === 'features' && e.phase !== 'progress')
      .map((e) => e.type === 'features' && `${e.split}:${e.phase}`);
    expect(phases).toEqual(['train:hit', 'validation:hit', 'test:hit']);

    // predict and eval agree with the run's report.
    const ev = await tlrAsync(
      'eval',
      path.join(r.runDir, 'model'),
      path.join(w.dir, 'data'),
      '--json',
      '--backend',
      'wasm',
    );
    expect(ev.code).toBe(0);
    const all = JSON.parse(ev.out).evaluation;
    expect(all.images).toBe(36);
    // eval on worker threads gives the same report; a bad TLR_WORKERS is a usage error.
    process.env.TLR_WORKERS = '2';
    try {
      const ev2 = await tlrAsync(
        'eval',
        path.join(r.runDir, 'model'),
        path.join(w.dir, 'data'),
        '--json',
        '--backend',
        'wasm',
      );
      expect(JSON.parse(ev2.out).evaluation).toEqual(all);
      process.env.TLR_WORKERS = 'lots';
      const bad = await tlrAsync('eval', path.join(r.runDir, 'model'), path.join(w.dir, 'data'), '--backend', 'wasm');
      expect([bad.code, bad.err.trim()]).toEqual([
        2,
        "tlr: TLR_WORKERS must be a whole number of worker threads from 0 (none) to 64, not 'lots'",
      ]);
    } finally {
      delete process.env.TLR_WORKERS;
    }
    const pr = await tlrAsync(
      'predict',
      path.join(r.runDir, 'model'),
      path.join(w.dir, 'data/bag', fs.readdirSync(path.join(w.dir, 'data/bag'))[0]!),
      '--json',
      '--backend',
      'wasm',
    );
    expect(pr.code).toBe(0);
    const top = JSON.parse(pr.out)[0].top;
    expect(top).toHaveLength(3);
    expect(top.reduce((a: number, t: { probability: number }) => a + t.probability, 0)).toBeCloseTo(1, 4);
  });

  it(
    '`save to` replaces only what tlr wrote: a folder that appeared after check stops the run before ' +
      'training, untouched',
    async () => {
      const w = makeWorld({ perClass: 4 });
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 1 epoch on ` +
          `./data\nsplit 50/50\nsave to ./out\n`,
      );
      const c = compile(fs.readFileSync(f, 'utf8'), { file: f });
      fs.mkdirSync(path.join(w.dir, 'out'));
      fs.writeFileSync(path.join(w.dir, 'out', 'thesis.tex'), 'irreplaceable');
      const events = new Events();
      await expect(
        run({
          plan: c.plan!,
          recipeText: '',
          events,
          backend: 'wasm',
          env: { ...process.env, TLR_CACHE: path.join(w.dir, 'cache'), TLR_WORKERS: '0' },
        }),
      ).rejects.toThrow(/cannot save the model to .*out: it is a folder tlr did not write .*thesis\.tex/);
      expect(fs.readFileSync(path.join(w.dir, 'out', 'thesis.tex'), 'utf8')).toBe('irreplaceable');
      // and the failed run left no (empty) run folders behind.
      expect(fs.existsSync(path.join(w.dir, 'runs'))).toBe(false);
      // Once it is gone, the run writes the model there, marked as tlr's, and a second run may replace it.
      fs.rmSync(path.join(w.dir, 'out'), { recursive: true });
      await go(f, { cache: path.join(w.dir, 'cache') });
      expect(fs.existsSync(path.join(w.dir, 'out', '.tlr-model'))).toBe(true);
      const again = await go(f, { cache: path.join(w.dir, 'cache') });
      expect(again.r.status).toBe('finished');
    },
  );

  // Convolutions on ONNX Runtime (the default), or in wasm (TLR_CONV=wasm) with the batches shared among threads or
  // not.
  it.each([
    [0, 'ort'],
    [2, 'wasm'],
    [0, 'wasm'],
  ] as const)(
    'fine-tuning (TLR_WORKERS=%i, convolutions on %s): frozen weights and BatchNorm statistics stay ' +
      'bit-identical, trainable ones move',
    async (workers, conv) => {
      const w = makeWorld();
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data lr ` +
          `0.01\nthen unfreeze from block12 train 2 epochs batch 8 lr 0.01\nsplit 70/30\nsave last\n`,
      );
      if (conv === 'wasm') {
        process.env['TLR_CONV'] = 'wasm';
        unregisterOrtKernels();
      }
      let went: Awaited<ReturnType<typeof go>>;
      try {
        went = await go(f, { cache: path.join(w.dir, 'cache'), workers });
      } finally {
        delete process.env['TLR_CONV'];
        expect(registerOrtKernels()).toBeNull();
      }
      const { r, seen } = went;
      // The head on cached features stays on this thread; the stage that trains backbone layers shares its batches when
      // convolutions run in wasm.
      const second =
        conv === 'ort'
          ? `wasm, convolutions on ONNX Runtime (${convThreads()} thread${convThreads() === 1 ? '' : 's'})`
          : workers
            ? 'wasm, 2 threads'
            : 'wasm';
      expect(seen.filter((e) => e.type === 'stage-start').map((e) => e.type === 'stage-start' && e.backend)).toEqual([
        'wasm',
        second,
      ]);
      const loaded = readTfjsModel(w.weights).weights;
      const trained = readTfjsModel(path.join(r.runDir, 'model', 'model.json')).weights;
      const info = catalog('mobilenet_v1', 0.25, 32);
      const frozen = new Set(
        info.layers.slice(0, info.blocks.find((b) => b.name === 'block12')!.first).map((l) => l.name),
      );
      let same = 0,
        moved = 0;
      for (const [name, t] of loaded) {
        const layer = name.split('/')[0]!;
        if (layer === 'conv_preds') continue;
        const now = trained.get(name)!;
        const identical = Buffer.from(now.data.buffer).equals(Buffer.from(t.data.buffer));
        if (frozen.has(layer)) {
          expect(identical, `${name} is frozen but changed`).toBe(true);
          same++;
        } else if (!identical) moved++;
      }
      expect(same).toBeGreaterThan(50);
      expect(trained.has('conv_pw_12_bn/moving_mean')).toBe(true);
      expect(moved).toBeGreaterThan(0);
    },
  );

  it('worker threads: the same features, validation and evaluation as one thread', async () => {
    const w = makeWorld();
    const f = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data lr ` +
        `0.01\nthen unfreeze from block13 train 1 epochs batch 8 lr 0.001\nsplit 60/20/20\n`,
    );
    const one = await go(f, { cache: path.join(w.dir, 'cache1'), workers: 0, inference: 'tfjs' });
    const before = tf.memory().numTensors;
    const two = await go(f, { cache: path.join(w.dir, 'cache2'), workers: 2, inference: 'tfjs' });
    expect(tf.memory().numTensors).toBe(before);
    // Stage 1's head features, then stage 2's frozen part (a feature map), each for train and validation.
    const computedOn = (seen: RunEvent[]) =>
      seen.flatMap((e) =>
        e.type === 'features' && e.phase === 'done' ? [`${e.through ? 'prefix' : 'features'}:${e.workers}`] : [],
      );
    expect([computedOn(one.seen), computedOn(two.seen)]).toEqual([
      ['features:0', 'features:0', 'prefix:0', 'prefix:0'],
      ['features:2', 'features:2', 'prefix:2', 'prefix:2'],
    ]);
    const files = (c: string) =>
      fs
        .readdirSync(path.join(w.dir, c, 'features'))
        .filter((n) => n.endsWith('.f32'))
        .sort();
    expect(files('cache2')).toEqual(files('cache1'));
    expect(files('cache1')).toHaveLength(4);
    for (const n of files('cache1')) {
      expect(
        fs
          .readFileSync(path.join(w.dir, 'cache2', 'features', n))
          .equals(fs.readFileSync(path.join(w.dir, 'cache1', 'features', n))),
        n,
      ).toBe(true);
    }
    const metrics = (r: string) =>
      fs
        .readFileSync(path.join(r, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const m = JSON.parse(l);
          return [m.val_loss, m.val_accuracy];
        });
    expect(metrics(two.r.runDir)).toEqual(metrics(one.r.runDir));
    expect(two.r.evaluation).toEqual(one.r.evaluation);
  });

  it.skipIf(!('ort' in loadOrt()))(
    'engines agree: ONNX Runtime and TensorFlow.js give the same features within float noise and the same evaluation',
    async () => {
      const w = makeWorld();
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data lr ` +
          `0.01\nthen unfreeze from block13 train 1 epochs batch 8 lr 0.001\nsplit 60/20/20\n`,
      );
      const tfjs = await go(f, { cache: path.join(w.dir, 'c1'), inference: 'tfjs' });
      const before = tf.memory().numTensors;
      const onnx = await go(f, { cache: path.join(w.dir, 'c2'), inference: 'onnx' });
      expect(tf.memory().numTensors).toBe(before);
      const ran = (seen: RunEvent[]) =>
        seen.flatMap((e) => (e.type === 'features' && e.phase === 'done' ? [e.engine] : []));
      expect(ran(onnx.seen).every((l) => l?.startsWith('ONNX Runtime'))).toBe(true);
      expect(ran(tfjs.seen).every((l) => l?.startsWith('TensorFlow.js'))).toBe(true);
      // The same keys (the engine is not part of them: results differ by float noise only) …
      const files = (c: string) =>
        fs
          .readdirSync(path.join(w.dir, c, 'features'))
          .filter((n) => n.endsWith('.f32'))
          .sort();
      expect(files('c2')).toEqual(files('c1'));
      for (const n of files('c1')) {
        const a = new Float32Array(fs.readFileSync(path.join(w.dir, 'c1', 'features', n)).buffer.slice(0));
        const b = new Float32Array(fs.readFileSync(path.join(w.dir, 'c2', 'features', n)).buffer.slice(0));
        const scale = Math.max(...a.map(Math.abs));
        expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!))) / scale, n).toBeLessThan(1e-4);
      }
      // … and the same predictions on the test split.
      expect(onnx.r.evaluation!.confusion).toEqual(tfjs.r.evaluation!.confusion);
      const env = JSON.parse(fs.readFileSync(path.join(onnx.r.runDir, 'environment.json'), 'utf8'));
      expect(env.inference.engine).toBe('onnx');
    },
  );

  it.skipIf(!('ort' in loadOrt()))(
    '`export onnx` writes model.onnx into the model folder and the `save to` copy, giving the ' +
      'probabilities tlr predict prints',
    async () => {
      const w = makeWorld();
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data lr ` +
          `0.01\nsplit 60/20/20\nsave to ./out\nexport onnx\n`,
      );
      const { r, seen } = await go(f, { cache: path.join(w.dir, 'cache') });
      const files = [path.join(r.runDir, 'model', 'model.onnx'), path.join(w.dir, 'out', 'model.onnx')];
      expect(seen.find((e) => e.type === 'finished')).toMatchObject({ exported: files });
      expect(fs.readFileSync(files[0]!).equals(fs.readFileSync(files[1]!))).toBe(true);
      const image = path.join(w.dir, 'data/bag', fs.readdirSync(path.join(w.dir, 'data/bag'))[0]!);
      const pr = JSON.parse(
        (await tlrAsync('predict', path.join(r.runDir, 'model'), image, '--json', '--top', '3')).out,
      )[0].top as { label: string; probability: number }[];
      const { ort } = loadOrt() as { ort: typeof import('onnxruntime-node') };
      const session = await ort.InferenceSession.create(files[0]!);
      const pre = JSON.parse(fs.readFileSync(path.join(r.runDir, 'model', 'preprocessing.json'), 'utf8'));
      const x = normalize(await decodeRgb(image, 32), pre);
      const logits = Array.from(
        (await session.run({ input: new ort.Tensor('float32', x, [1, 32, 32, 3]) }))['output']!.data as Float32Array,
      );
      const e = logits.map((v) => Math.exp(v)),
        sum = e.reduce((a, b) => a + b, 0);
      const labels = JSON.parse(fs.readFileSync(path.join(r.runDir, 'model', 'labels.json'), 'utf8')) as string[];
      for (const t of pr) expect(e[labels.indexOf(t.label)]! / sum).toBeCloseTo(t.probability, 4);
      await session.release();
    },
  );

  it(
    'a split stage without augmentation computes its frozen part once and trains on the cache: the same ' +
      'weights as running it every epoch',
    async () => {
      const w = makeWorld();
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 3 epochs on ./data lr ` +
          `0.01\n  freeze until block11\n  batch 8\nsplit 70/30\n`,
      );
      const cachedRun = await go(f, { cache: path.join(w.dir, 'c1'), inference: 'tfjs' });
      const prefix = cachedRun.seen.filter((e) => e.type === 'features' && e.phase === 'done' && e.through);
      expect(prefix.map((e) => e.type === 'features' && e.split)).toEqual(['train', 'validation']);
      process.env.TLR_PREFIX_CACHE_MB = '0';
      let everyEpoch: Awaited<ReturnType<typeof go>>;
      try {
        everyEpoch = await go(f, { cache: path.join(w.dir, 'c2'), inference: 'tfjs' });
      } finally {
        delete process.env.TLR_PREFIX_CACHE_MB;
      }
      expect(
        everyEpoch.seen.some(
          (e) =>
            e.type === 'warning' &&
            /frozen part runs every epoch instead of once: .*TLR_PREFIX_CACHE_MB/.test(e.message),
        ),
      ).toBe(true);
      expect(everyEpoch.seen.some((e) => e.type === 'features' && e.through)).toBe(false);
      const a = readTfjsModel(path.join(cachedRun.r.runDir, 'model', 'model.json')).weights,
        b = readTfjsModel(path.join(everyEpoch.r.runDir, 'model', 'model.json')).weights;
      let worst = 0;
      for (const [name, t] of a) {
        const u = b.get(name)!;
        const scale = Math.max(1e-6, ...t.data.map(Math.abs));
        worst = Math.max(worst, ...t.data.map((v, i) => Math.abs(v - u.data[i]!) / scale));
      }
      expect(worst).toBeLessThan(1e-4);
      // A second run of the recipe finds the frozen part's outputs in the cache.
      const again = await go(f, { cache: path.join(w.dir, 'c1'), inference: 'tfjs' });
      expect(
        again.seen.filter((e) => e.type === 'features' && e.through).map((e) => e.type === 'features' && e.phase),
      ).toEqual(['hit', 'hit']);
    },
  );

  it(
    'a frozen stage after one that fine-tuned the backbone computes its features again, from ' + 'the trained weights',
    async () => {
      const w = makeWorld();
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 1 epochs on ./data lr ` +
          `0.01\nthen unfreeze from block12 train 1 epochs batch 8 lr 0.01\nthen freeze all train 1 ` +
          `epochs\nsplit 70/30\n`,
      );
      const { r, seen } = await go(f, { cache: path.join(w.dir, 'cache') });
      expect(r.status).toBe('finished');
      const phases = seen.flatMap((e) =>
        e.type === 'features' && e.phase !== 'progress' && !e.through ? [`${e.split}:${e.phase}:${e.key}`] : [],
      );
      expect(phases.map((p) => p.split(':').slice(0, 2).join(':'))).toEqual([
        'train:done',
        'validation:done',
        'train:done',
        'validation:done',
      ]);
      // Stage 2 (unfrozen from block12, nothing augmented) computed its frozen part once, for train and validation.
      expect(
        seen
          .filter((e) => e.type === 'features' && e.phase === 'done' && e.through)
          .map((e) => e.type === 'features' && e.split),
      ).toEqual(['train', 'validation']);
      expect(new Set(phases.map((p) => p.split(':')[2])).size).toBe(4);
      // And the features themselves differ: stage 3 ran the fine-tuned backbone, not the loaded one.
      const file = (i: number) =>
        fs.readFileSync(path.join(w.dir, 'cache', 'features', `${phases[i]!.split(':')[2]}.f32`));
      expect(file(2).equals(file(0))).toBe(false);
    },
  );

  it('Ctrl-C stops after the current batch and keeps a checkpoint; --resume finishes the schedule', async () => {
    const w = makeWorld();
    const f = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 3 epochs on ./data ` +
        `batch 4 lr 0.01\nthen unfreeze from block13 train 2 epochs\nsplit 70/30\n`,
    );
    const first = await go(f, { stopAfter: 9, cache: path.join(w.dir, 'cache') });
    expect(first.r.status).toBe('interrupted');
    expect(first.seen.some((e) => e.type === 'interrupted')).toBe(true);
    expect(fs.existsSync(path.join(first.r.runDir, 'checkpoint', 'state.json'))).toBe(true);
    expect(fs.existsSync(path.join(first.r.runDir, 'report.json'))).toBe(false);
    // The checkpoint's files (its state, optimizer state, model folders) are contracts too, read back as they are.
    expect(runFolderProblems(first.r.runDir)).toEqual([]);
    const second = await go(f, { resume: first.r.runDir, cache: path.join(w.dir, 'cache') });
    expect(second.r.status).toBe('finished');
    const rows = fs
      .readFileSync(path.join(first.r.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((m) => `${m.stage}.${m.epoch}`)).toEqual(['1.1', '1.2', '1.3', '2.1', '2.2']);
    expect(fs.existsSync(path.join(first.r.runDir, 'checkpoint'))).toBe(false);
  });

  it('a resumed run ends with the very weights of an uninterrupted one (optimizer state is checkpointed)', async () => {
    const w = makeWorld();
    const f = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ./data lr ` +
        `0.01\nthen unfreeze from block12 train 3 epochs batch 4 lr 0.001\nsplit 70/30\nsave last\n`,
    );
    const whole = await go(f, { cache: path.join(w.dir, 'cache') });
    // Stage 1 is 2 batches; stage 2 has 7 a epoch: stop in the middle of stage 2's second epoch.
    const first = await go(f, { stopAfter: 2 + 7 + 3, cache: path.join(w.dir, 'cache') });
    expect(first.r.status).toBe('interrupted');
    expect(fs.existsSync(path.join(first.r.runDir, 'checkpoint', 'optimizer.json'))).toBe(true);
    const second = await go(f, { resume: first.r.runDir, cache: path.join(w.dir, 'cache') });
    expect(second.seen.filter((e) => e.type === 'warning' && !/ONNX Runtime is not used/.test(e.message))).toEqual([]);
    const weights = (dir: string) => fs.readFileSync(path.join(dir, 'model', 'weights.bin'));
    expect(weights(first.r.runDir).equals(weights(whole.r.runDir))).toBe(true);
    expect(second.r.evaluation).toEqual(whole.r.evaluation);
  });

  it('an unreadable image among too few is an error naming it; the run does not train on broken data', async () => {
    const w = makeWorld();
    fs.writeFileSync(path.join(w.dir, 'data/bag/broken.png'), 'not a png at all');
    const f = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\ntrain 2 epochs on ./data\nsplit 50/50\n`,
    );
    const res = await tlrAsync('run', f, '--backend', 'wasm');
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/warning: skipped an unreadable image: .*broken\.png: cannot be read as an image/);
    expect(res.out).toMatch(/error: 1 of the \d+ (train|validation) images cannot be read \(more than 1%\)/);
  });

  it('early stop ends a stage when its metric stops improving', async () => {
    const w = makeWorld({ perClass: 6 });
    // At lr 1e-9 nothing changes, so val_accuracy never improves after the first epoch.
    const f = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\ntrain 20 epochs on ./data lr 1e-9\nearly ` +
        `stop patience 2 on val_accuracy\n`,
    );
    const { r, seen } = await go(f, { cache: path.join(w.dir, 'cache') });
    expect(seen.filter((e) => e.type === 'epoch')).toHaveLength(3);
    expect(seen.find((e) => e.type === 'early-stop')).toMatchObject({
      stage: 1,
      epoch: 3,
      metric: 'val_accuracy',
      patience: 2,
    });
    expect(r.status).toBe('finished');
  });

  it('--json prints one JSON event per line', async () => {
    const w = makeWorld({ perClass: 6 });
    const f = recipe(w.dir, `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\ntrain 2 epochs on ./data\n`);
    const res = await tlrAsync('run', f, '--json', '--backend', 'wasm');
    expect(res.code).toBe(0);
    const events = res.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events[0].type).toBe('plan');
    expect(events[events.length - 1].type).toBe('finished');
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2);
  });

  it('a recipe with errors does not run, and says why', async () => {
    const w = makeWorld();
    fs.mkdirSync(path.join(w.dir, 'data/empty'));
    const f = recipe(w.dir, `from mobilenet_v1 width 0.25 train 2 epochs on ./data\n`);
    const res = await tlrAsync('run', f);
    expect(res.code).toBe(1);
    expect(res.err).toContain('class `empty` has no images');
    const g = recipe(w.dir, `from mobilenet_v1 width 0.25 train 2 epochs on ./nowhere\n`);
    expect((await tlrAsync('run', g)).err).toContain('data folder ./nowhere does not exist');
  });
});
