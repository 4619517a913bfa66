import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compile } from '../../../src/compiler/index.js';
import { writeManifest } from '../../../src/engines/torch/job.js';
import { listSplits } from '../../../src/runtime/images/dataset.js';

// manifest.json is written streaming (10,000 rows at a time): the bytes must be JSON.stringify's, across chunk
// boundaries, in the splits' order.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-manifest-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An IDX data set of n 1x1 images in 3 classes. */
function idx(n: number): void {
  const labels = Buffer.alloc(8 + n),
    images = Buffer.alloc(16 + n);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(n, 4);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(n, 4);
  images.writeUInt32BE(1, 8);
  images.writeUInt32BE(1, 12);
  for (let i = 0; i < n; i++) labels[8 + i] = i % 3;
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'train-labels-idx1-ubyte'), labels);
  fs.writeFileSync(path.join(dir, 'data', 'train-images-idx3-ubyte'), images);
}

it('streams the same bytes JSON.stringify would, across chunks of 10,000 rows', () => {
  idx(25_003);
  const file = path.join(dir, 'r.tlr');
  const plan = compile(
    'from resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ./data\nsplit 80/10/10\n',
    {
      file,
    },
  ).plan!;
  const out = path.join(dir, 'manifest.json');
  expect(writeManifest(plan, out)).toEqual([]);
  const text = fs.readFileSync(out, 'utf8');
  const m = JSON.parse(text);
  expect(text).toBe(`${JSON.stringify(m)}\n`);
  const splits = listSplits(plan);
  for (const s of ['train', 'validation', 'test'] as const) {
    expect(m.splits[s]).toHaveLength(splits[s].length);
    expect(m.splits[s].slice(0, 3)).toEqual(
      splits[s].slice(0, 3).map((it) => (it.kind === 'idx' ? ['train-images-idx3-ubyte', it.label, it.index] : null)),
    );
  }
  expect(m.splits.train.length).toBeGreaterThan(20_000);
  expect(Object.keys(m)).toEqual(['format', 'version', 'root', 'classes', 'splits']);
});
