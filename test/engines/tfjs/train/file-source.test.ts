import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import {
  FeatureSource,
  FileFeatureSource,
  type BatchSource,
} from '../../../../src/engines/tfjs/train/batch-sources.js';

// A split stage's cached feature maps read from their file a batch at a time: the same batches, in
// the same order, as the rows held in memory; a file cut short while read is an error naming it.

const ROWS = 7,
  SHAPE = [2, 2, 3],
  DIM = 12;
const values = Float32Array.from({ length: ROWS * DIM }, (_, i) => Math.sin(i) * 10);
const y = Int32Array.from({ length: ROWS }, (_, i) => i % 3),
  ids = Int32Array.from({ length: ROWS }, (_, i) => 100 + i);

function file(): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-rows-')), 'rows.f32');
  fs.writeFileSync(f, new Uint8Array(values.buffer));
  return f;
}

async function all(
  src: BatchSource,
  train: boolean,
): Promise<{ x: number[][]; shape: number[][]; y: number[][]; ids: number[][] }> {
  const out = { x: [] as number[][], shape: [] as number[][], y: [] as number[][], ids: [] as number[][] };
  for await (const b of src.batches(3, train, 5)) {
    out.x.push(Array.from(b.x.dataSync()));
    out.shape.push(b.x.shape);
    out.y.push(Array.from(b.y));
    out.ids.push(Array.from(b.ids));
    b.x.dispose();
  }
  return out;
}

describe('FileFeatureSource', () => {
  it.each([true, false])('gives the batches a FeatureSource over the same rows gives (shuffled: %s)', async (train) => {
    const memory = new FeatureSource(tf.tensor2d(values, [ROWS, DIM]), y, ids, SHAPE);
    const disk = new FileFeatureSource(file(), DIM, y, ids, SHAPE);
    expect(await all(disk, train)).toEqual(await all(memory, train));
    memory.dispose();
    disk.dispose();
  });

  it('a file cut short while the stage reads it is an error naming the file', async () => {
    const f = file(),
      disk = new FileFeatureSource(f, DIM, y, ids, SHAPE);
    fs.truncateSync(f, DIM * 4 * 2);
    await expect(all(disk, false)).rejects.toThrow(
      `${f} ended early at row 2: the cache file was changed while the stage ran; run again`,
    );
    disk.dispose();
  });
});
