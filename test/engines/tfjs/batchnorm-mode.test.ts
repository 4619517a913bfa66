import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { makeWorld, recipe } from '../../helpers/run-fixture.js';
import { tlrAsync } from '../../helpers/cli.js';
import { readTfjsModel } from '../../../src/runtime/weights/tfjs-format.js';

// `keep batchnorm statistics` (the default) against `update batchnorm statistics`: BatchNorm
// layers of unfrozen blocks keep their moving statistics, while their scale and shift still train.

describe('BatchNorm while fine-tuning (tfjs engine)', () => {
  it.each([
    ['keep', true],
    ['update', false],
  ] as const)(
    '%s batchnorm statistics (statistics of unfrozen blocks kept: %s)',
    async (mode, kept) => {
      const w = makeWorld({ perClass: 8 });
      const file = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 1 epochs on ` +
          `./data\nthen unfreeze from block13 train 1 epochs\n  ${mode} batchnorm statistics\n  lr ` +
          `0.01\nsplit 50/50\nsave last\n`,
      );
      process.env['TLR_CACHE'] = path.join(w.dir, 'cache');
      let r: Awaited<ReturnType<typeof tlrAsync>>;
      try {
        r = await tlrAsync('run', file, '--json');
      } finally {
        delete process.env['TLR_CACHE'];
      }
      expect(r.code, r.err).toBe(0);
      const runDir = JSON.parse(r.out.trim().split('\n').pop()!).runDir as string;
      const start = readTfjsModel(w.weights).weights,
        end = readTfjsModel(path.join(runDir, 'model', 'model.json')).weights;
      const same = (k: string) => Array.from(start.get(k)!.data).every((v, i) => v === end.get(k)!.data[i]);
      for (const bn of ['conv_dw_13_bn', 'conv_pw_13_bn']) {
        expect(same(`${bn}/moving_mean`), `${bn} moving mean`).toBe(kept);
        expect(same(`${bn}/moving_variance`), `${bn} moving variance`).toBe(kept);
        // Scale and shift train either way. (A channel that is constant over the batch, dead after the ReLU before
        // it, normalises to 0 in training mode, where its gamma gets no gradient: its beta still does.)
        expect(same(`${bn}/gamma`) && same(`${bn}/beta`), `${bn} gamma and beta train either way`).toBe(false);
      }
      expect(same('conv_pw_12_bn/moving_mean') && same('conv_pw_12_bn/gamma')).toBe(true); // frozen
    },
    120_000,
  );
});
