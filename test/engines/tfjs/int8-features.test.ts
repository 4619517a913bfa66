import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../src/engines/tfjs/tf.js';
import { compile } from '../../../src/compiler/index.js';
import { run } from '../../../src/engines/tfjs/run.js';
import { Events, type EventOf, type RunEvent } from '../../../src/runtime/events.js';
import { loadOrt } from '../../../src/engines/tfjs/onnx/runtime.js';
import { engineNamed } from '../../../src/engines/index.js';
import { makeWorld } from '../../helpers/run-fixture.js';

// `features int8`: the cached features are computed by the int8 network, calibrated once a run on the training part;
// they are close to the float ones and not equal, under their own cache keys, read back on the next run; a run without
// ONNX Runtime and the torch engine refuse the recipe before training.

const ort = loadOrt();

async function go(file: string, cache: string, env: NodeJS.ProcessEnv = {}) {
  const c = compile(fs.readFileSync(file, 'utf8'), { file });
  expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const events = new Events();
  const seen: RunEvent[] = [];
  events.on((e) => seen.push(e));
  await run({
    plan: c.plan!,
    recipeText: '',
    events,
    backend: 'wasm',
    env: { ...process.env, TLR_CACHE: cache, TLR_WORKERS: '0', ...env },
  });
  const features = seen.filter((e): e is EventOf<'features'> => e.type === 'features');
  return {
    plan: c.plan!,
    features,
    at: (split: string, phase: string) => features.filter((e) => e.split === split && e.phase === phase),
  };
}

/** The recipe, as its own file (so each gets its own runs folder). */
const recipe = (d: string, t: string, name: string) => {
  const f = path.join(d, name);
  fs.writeFileSync(f, t);
  return f;
};

/** A cache entry's rows. */
const rows = (cache: string, key: string) => {
  const b = fs.readFileSync(path.join(cache, 'features', `${key}.f32`));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

let dir = '',
  weights = '';
const text = (int8: boolean) =>
  `from mobilenet_v1 width 0.25 input 32 weights ${weights}\n${int8 ? 'features int8\n' : ''}head dense(3)\n` +
  'train 2 epochs on ./data\nsplit 50/50\n';

beforeAll(async () => {
  await tf.setBackend('wasm');
  ({ dir, weights } = makeWorld({ perClass: 8 }));
});

describe.skipIf(!('ort' in ort))(`features int8${'ort' in ort ? '' : ' (skipped: no ONNX Runtime)'}`, () => {
  it('computes the cached features with the int8 network: close to float, under their own keys, read back', async () => {
    const cache = path.join(dir, 'cache');
    const f32 = await go(recipe(dir, text(false), 'float.tlr'), cache);
    const i8 = await go(recipe(dir, text(true), 'int8.tlr'), cache);
    expect(i8.plan.features).toEqual({
      precision: 'int8',
      calibration: { part: 'train', images: 200, method: 'Percentile', percentile: 99.99 },
    });
    // Calibrated once a run, on every training image when there are fewer than the plan's count.
    const calibrating = i8.features.filter((e) => e.phase === 'computing');
    expect(calibrating.map((e) => e.calibrating)).toEqual([12]);
    for (const split of ['train', 'validation']) {
      const [a] = f32.at(split, 'done'),
        [b] = i8.at(split, 'done');
      expect(b!.engine).toMatch(/ONNX Runtime \(.*int8\)/);
      expect(a!.engine).not.toMatch(/int8/);
      expect(b!.key).not.toBe(a!.key);
      const x = rows(cache, a!.key),
        y = rows(cache, b!.key);
      expect(y.length).toBe(x.length);
      let diff = 0,
        norm = 0;
      for (let i = 0; i < x.length; i++) {
        diff += (y[i]! - x[i]!) ** 2;
        norm += x[i]! ** 2;
      }
      // int8 changes the features (so the recipe must ask for it), by a little.
      expect(diff).toBeGreaterThan(0);
      expect(Math.sqrt(diff / norm)).toBeLessThan(0.1);
    }
    const again = await go(recipe(dir, text(true), 'int8.tlr'), cache);
    expect(again.features.filter((e) => e.phase !== 'hit')).toEqual([]);
    expect(again.at('train', 'hit')[0]!.key).toBe(i8.at('train', 'done')[0]!.key);
  }, 120_000);

  it('refuses to run without ONNX Runtime, before any feature is computed', async () => {
    const cache = path.join(dir, 'cache-tfjs');
    await expect(go(recipe(dir, text(true), 'int8.tlr'), cache, { TLR_INFERENCE: 'tfjs' })).rejects.toThrow(
      /`features int8` runs on ONNX Runtime's int8 kernels, which this run does not use \(TLR_INFERENCE=tfjs\)/,
    );
    expect(fs.existsSync(path.join(cache, 'features'))).toBe(false);
  });
});

describe('features int8 on the engines', () => {
  it('the torch engine refuses it, naming the engine that runs it', () => {
    const f = recipe(dir, text(true), 'int8.tlr');
    const plan = compile(fs.readFileSync(f, 'utf8'), { file: f }).plan!;
    const torch = engineNamed('torch');
    expect(torch.unsupported(plan)).toMatch(/`features int8` runs on the tfjs engine/);
    expect(torch.unsupported({ ...plan, features: undefined })).toBeNull();
    expect(engineNamed('tfjs').unsupported(plan)).toBeNull();
  });
});
