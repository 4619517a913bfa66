import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlrAsync } from '../../helpers/cli.js';
import { findTorchPython, hasTorch } from '../../../src/engines/torch/python.js';
import { readSafetensors } from '../../../src/runtime/weights/safetensors.js';
import { rng } from '../../../src/data/random.js';
import { HEAVY } from '../../helpers/heavy.js';

// The torch engine's image loader in processes (--workers N): the order and the augmentation do not
// depend on how many there are, so 0 (a thread pool), 1 and 2 train to the same weights. Three runs
// take half a minute: with TLR_HEAVY=1 (npm run test:heavy, in .ci/run); the loader's own test
// (python/tests/test_loader.py, npm run test:py) checks the same batches in seconds.

const py = await findTorchPython();
const d = hasTorch(py) ? describe : describe.skip;
let dir = '';

d('the torch engine with loader processes', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-loader-'));
    const r = rng(8);
    for (const [c, rgb] of Object.entries({ red: [200, 40, 40], blue: [40, 60, 200] }))
      for (let i = 0; i < 12; i++) {
        fs.mkdirSync(path.join(dir, 'data', c), { recursive: true });
        const px = Buffer.from(
          Array.from({ length: 36 * 28 * 3 }, (_, k) => rgb[k % 3]! + Math.round((r() - 0.5) * 80)),
        );
        await sharp(px, { raw: { width: 36, height: 28, channels: 3 } })
          .jpeg()
          .toFile(path.join(dir, 'data', c, `${i}.jpg`));
      }
    fs.writeFileSync(
      path.join(dir, 'r.tlr'),
      'from resnet18 weights none input 32\nhead dense(2)\ntrain 1 epochs on ./data\n  batch 6\n' +
        'augment flip both, shift 0.1, contrast 0.2\nsplit 70/15/15\n',
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  (HEAVY ? it : it.skip)(
    '(heavy) trains to the same weights with 0, 1 and 2 loader processes (augmentation included)',
    async () => {
      const weights: Map<string, { data: ArrayLike<number> }>[] = [];
      for (const workers of ['0', '1', '2']) {
        const r = await tlrAsync('run', path.join(dir, 'r.tlr'), '--engine', 'torch', '--workers', workers, '--json');
        expect(r.code, r.err).toBe(0);
        const runs = fs.readdirSync(path.join(dir, 'runs', 'r')).sort();
        const run = path.join(dir, 'runs', 'r', runs[runs.length - 1]!);
        expect(JSON.parse(fs.readFileSync(path.join(run, 'engine.json'), 'utf8')).settings.workers).toBe(
          Number(workers),
        );
        weights.push(
          readSafetensors(new Uint8Array(fs.readFileSync(path.join(run, 'model', 'model.safetensors'))), run),
        );
      }
      for (const other of weights.slice(1))
        for (const [k, t] of weights[0]!) expect(Array.from(other.get(k)!.data), k).toEqual(Array.from(t.data));
      const bad = await tlrAsync('run', path.join(dir, 'r.tlr'), '--engine', 'torch', '--workers', 'many');
      expect(bad.code).not.toBe(0);
      expect(bad.out + bad.err).toMatch(/--workers many: give a whole number of loader processes per rank, 0 to 64/);
    },
    180_000,
  );
});
