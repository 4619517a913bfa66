import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

// MNIST-style IDX image files, read whole (a data set is one file; Fashion-MNIST's training images
// are 47 MB) and kept once per process.

export interface IdxImages {
  readonly file: string;
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  readonly pixels: Uint8Array;
}

const loaded = new Map<string, IdxImages>();

export function readIdxImages(file: string): IdxImages {
  const hit = loaded.get(file);
  if (hit) return hit;
  const raw = fs.readFileSync(file);
  const buf = file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
  if (buf.length < 16 || buf.readUInt32BE(0) !== 0x803) throw new Error(`${file} is not an IDX image file (bad magic number)`);
  const count = buf.readUInt32BE(4), rows = buf.readUInt32BE(8), cols = buf.readUInt32BE(12);
  if (buf.length < 16 + count * rows * cols) throw new Error(`${file} is truncated: ${count} images of ${rows}x${cols} need ${16 + count * rows * cols} bytes, it has ${buf.length}`);
  const images = { file, count, rows, cols, pixels: new Uint8Array(buf.buffer, buf.byteOffset + 16, count * rows * cols) };
  loaded.set(file, images);
  return images;
}
