import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { listSplits } from '../../src/runtime/images/dataset.js';

// A run's listing and split at the size of a large data set: 600,000 images in two classes (1x1
// pixels in an IDX file, so the test stays small) are split without overflowing the call stack,
// which gathering splits with push(...items) did past a few hundred thousand images.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-splits-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('splits 600,000 images deterministically, every image in exactly one split', () => {
  const n = 600_000;
  const images = Buffer.alloc(16 + n),
    labels = Buffer.alloc(8 + n);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(n, 4);
  images.writeUInt32BE(1, 8);
  images.writeUInt32BE(1, 12);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(n, 4);
  for (let i = 0; i < n; i++) labels[8 + i] = i % 2;
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'train-images-idx3-ubyte'), images);
  fs.writeFileSync(path.join(dir, 'data', 'train-labels-idx1-ubyte'), labels);
  const file = path.join(dir, 'big.tlr');
  const c = compile('from mobilenet_v1 width 0.25 input 32\nhead dense(2)\ntrain 1 epoch on ./data\nsplit 80/10/10\n', {
    file,
  });
  expect(c.plan, c.diagnostics.map((d) => d.message).join('; ')).not.toBeNull();
  const s = listSplits(c.plan!);
  expect([s.train.length, s.validation.length, s.test.length]).toEqual([480_000, 60_000, 60_000]);
  const seen = new Set([...s.train, ...s.validation, ...s.test].map((it) => (it.kind === 'idx' ? it.index : -1)));
  expect(seen.size).toBe(n);
  expect(
    listSplits(c.plan!)
      .test.map((it) => (it.kind === 'idx' ? it.index : -1))
      .slice(0, 5),
  ).toEqual(s.test.slice(0, 5).map((it) => (it.kind === 'idx' ? it.index : -1)));
});
