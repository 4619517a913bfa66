import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython, hasTorch } from '../../src/engines/torch/python.js';
import { tlrAsync } from '../helpers/cli.js';
import { makeImbalanced } from '../../scripts/imbalanced-data.js';
import { hasShared, SHARED, SKIP_SHARED } from '../helpers/shared.js';
import { HEAVY } from '../helpers/heavy.js';

// An imbalanced data set (one class 1 image in 50 for training): `balance classes` and `class weights auto` each raise
// the test part's balanced accuracy by at least 10 points over neither, on both engines (the torch engine where a
// Python with torch is found), with ImageNet's MobileNet V1 0.25 as a fixed feature extractor (its features carry the
// patches' brightness; random weights' do not). Both engines draw the same balanced order: twins/sampler.json.

// The torch engine's three runs with TLR_HEAVY=1 (npm run test:heavy, in .ci/run): npm test keeps within its time.
const py = HEAVY ? await findTorchPython() : null;
const ENGINES = py && hasTorch(py) ? ['tfjs', 'torch'] : ['tfjs'];
if (py && !hasTorch(py))
  console.warn('the imbalance test runs on tfjs only: no Python with torch and torchvision found');

let dir: string;
const saved = process.env['TLR_WEIGHTS_DIR'];
const recipe = (extra: string) => `from mobilenet_v1 width 0.25 input 32
train 40 epochs on ./train
  lr 0.01
${extra}
validate on ./val
test on ./test
`;

/** The test part's balanced accuracy of a run of `extra` on `engine`. */
async function balanced(engine: string, name: string, extra: string): Promise<number> {
  const file = path.join(dir, `${name}-${engine}.tlr`);
  fs.writeFileSync(file, recipe(extra));
  const r = await tlrAsync('run', file, '--engine', engine, '--json');
  expect(r.code, r.err).toBe(0);
  const runs = path.join(dir, 'runs', `${name}-${engine}`);
  const run = path.join(runs, fs.readdirSync(runs)[0]!);
  const report = JSON.parse(fs.readFileSync(path.join(run, 'report.json'), 'utf8'));
  expect(report.evaluation.split).toBe('test');
  return report.evaluation.balancedAccuracy;
}

beforeAll(async () => {
  if (!hasShared) return;
  process.env['TLR_WEIGHTS_DIR'] = path.join(SHARED, 'weights');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-imbalanced-'));
  await makeImbalanced(dir);
});
afterAll(() => {
  if (saved === undefined) delete process.env['TLR_WEIGHTS_DIR'];
  else process.env['TLR_WEIGHTS_DIR'] = saved;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasShared).each(ENGINES)(
  `imbalanced data on the %s engine${hasShared ? '' : ` (${SKIP_SHARED})`}`,
  (engine) => {
    it('balance classes and class weights auto each raise balanced accuracy by 10 points or more', async () => {
      const neither = await balanced(engine, 'neither', '');
      const sampled = await balanced(engine, 'balance', '  balance classes');
      const weighted = await balanced(engine, 'weights', '  class weights auto');
      console.log(`${engine}: balanced accuracy ${[neither, sampled, weighted].map((x) => x.toFixed(3)).join(' / ')}`);
      expect(sampled - neither).toBeGreaterThanOrEqual(0.1);
      expect(weighted - neither).toBeGreaterThanOrEqual(0.1);
    }, 240_000);
  },
);
