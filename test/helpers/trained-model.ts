import * as fs from 'node:fs';
import * as path from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src/engines/tfjs/tf.js';
import { compile } from '../../src/compiler/index.js';
import { run } from '../../src/engines/tfjs/run.js';
import { Events } from '../../src/runtime/events.js';
import { makeWorld, recipe } from './run-fixture.js';

// A model folder to predict with, evaluate, export or serve: a MobileNet V1 0.25 at 32 px (deterministic weights, no
// download) trained briefly on a few quickstart images per class, on the wasm backend.

/** Trains `head` for `train` (a `train …` clause's tail) on `perClass` images a class; the world and its model. */
export async function trainedModel(
  opts: { perClass?: number; head?: string; train?: string } = {},
): Promise<{ dir: string; model: string; runDir: string }> {
  await tf.setBackend('wasm');
  const w = makeWorld({ perClass: opts.perClass ?? 4 });
  const f = recipe(
    w.dir,
    `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead ${opts.head ?? 'dense(3)'}\n` +
      `train ${opts.train ?? '1 epoch on ./data'}\nsplit 50/50\n`,
  );
  const c = compile(fs.readFileSync(f, 'utf8'), { file: f });
  const r = await run({
    plan: c.plan!,
    recipeText: '',
    events: new Events(),
    backend: 'wasm',
    env: { ...process.env, TLR_CACHE: path.join(w.dir, 'cache'), TLR_WORKERS: '0' },
  });
  return { dir: w.dir, model: path.join(r.runDir, 'model'), runDir: r.runDir };
}
