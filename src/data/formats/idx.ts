import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { SplitName } from '../layout.js';
import { DataError, fail, type ClassFolder, type DataFormatDef, type ProbeResult } from './types.js';

// A folder of MNIST-style IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
// t10k-* as the test part); class names from classes.txt (one a line) when present.

export const IDX_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

function findIdx(dir: string, base: string): string | null {
  for (const f of [base, `${base}.gz`]) if (fs.existsSync(path.join(dir, f))) return path.join(dir, f);
  return null;
}

/** The first bytes of a file, gunzipped when it is .gz (partial input is fine). */
function head(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(file.endsWith('.gz') ? 64 * 1024 : bytes);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const raw = buf.subarray(0, n);
    if (!file.endsWith('.gz')) return raw;
    try {
      return zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, bytes);
    } catch (e) {
      throw new DataError(`${file} is not a gzip file (${(e as Error).message})`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The labels of an IDX label file (gzipped or not); errors name the file. */
/** The bytes of an IDX file, gunzipped when it ends in .gz; a DataError names a damaged one. */
function readIdx(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!file.endsWith('.gz')) return raw;
  try {
    return zlib.gunzipSync(raw);
  } catch (e) {
    throw new DataError(`${file} is not a whole gzip file (${(e as Error).message}); download it again`);
  }
}

export function readIdxLabels(file: string): Uint8Array {
  const buf = readIdx(file);
  if (buf.length < 8 || buf.readUInt32BE(0) !== 0x801)
    throw new DataError(`${file} is not an IDX label file (bad magic number)`);
  const n = buf.readUInt32BE(4);
  if (buf.length < 8 + n) throw new DataError(`${file} is truncated: it says ${n} labels but holds ${buf.length - 8}`);
  return buf.subarray(8, 8 + n);
}

export interface IdxImages {
  readonly file: string;
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  readonly pixels: Uint8Array;
}

// A data set is one file (Fashion-MNIST's training images are 47 MB): read whole, kept once per process.
const loaded = new Map<string, IdxImages>();

/** The images of an IDX image file, read once per process; errors name the file. */
export function readIdxImages(file: string): IdxImages {
  const hit = loaded.get(file);
  if (hit) return hit;
  const buf = readIdx(file);
  if (buf.length < 16 || buf.readUInt32BE(0) !== 0x803)
    throw new DataError(`${file} is not an IDX image file (bad magic number)`);
  const count = buf.readUInt32BE(4),
    rows = buf.readUInt32BE(8),
    cols = buf.readUInt32BE(12);
  if (!rows || !cols)
    throw new DataError(`${file} holds images of ${rows}x${cols} pixels: there is nothing to train on`);
  if (buf.length < 16 + count * rows * cols)
    throw new DataError(
      `${file} is truncated: ${count} images of ${rows}x${cols} need ${16 + count * rows * cols} bytes, ` +
        `it has ${buf.length}`,
    );
  const images = {
    file,
    count,
    rows,
    cols,
    pixels: new Uint8Array(buf.buffer, buf.byteOffset + 16, count * rows * cols),
  };
  loaded.set(file, images);
  return images;
}

/** classes.txt beside IDX files: one class name a line, or null. */
export function readClassNames(dir: string): string[] | null {
  const f = path.join(dir, 'classes.txt');
  if (!fs.existsSync(f)) return null;
  return fs
    .readFileSync(f, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One part's classes and counts, or a failure. */
function probePart(dir: string, part: 'train' | 'test', names: string[] | null): ClassFolder[] | ProbeResult | null {
  const labels = findIdx(dir, IDX_FILES[part].labels),
    images = findIdx(dir, IDX_FILES[part].images);
  if (!labels) return null;
  if (!images) return fail('unreadable', `${labels} has no images file beside it (${IDX_FILES[part].images}[.gz])`);
  let ys: Uint8Array;
  try {
    ys = readIdxLabels(labels);
    const h = head(images, 16);
    if (h.length < 16 || h.readUInt32BE(0) !== 0x803)
      throw new Error(`${images} is not an IDX image file (bad magic number)`);
    if (h.readUInt32BE(4) !== ys.length)
      throw new Error(`${images} holds ${h.readUInt32BE(4)} images but ${labels} has ${ys.length} labels`);
    if (!h.readUInt32BE(8) || !h.readUInt32BE(12))
      throw new Error(
        `${images} holds images of ${h.readUInt32BE(8)}x${h.readUInt32BE(12)} pixels: there is nothing to train on`,
      );
  } catch (e) {
    return fail('unreadable', (e as Error).message);
  }
  const counts = new Map<number, number>();
  for (const y of ys) counts.set(y, (counts.get(y) ?? 0) + 1);
  const max = Math.max(...counts.keys());
  if (names && names.length <= max)
    return fail(
      'unreadable',
      `${path.join(dir, 'classes.txt')} names ${names.length} classes but the labels go up to ${max}`,
    );
  const n = names ? names.length : max + 1;
  return Array.from({ length: n }, (_, i) => ({
    name: names?.[i] ?? String(i),
    where: `label ${i} in ${labels}`,
    images: counts.get(i) ?? 0,
  }));
}

export const idx: DataFormatDef<'idx'> = {
  name: 'idx',
  description: 'a folder of MNIST-style IDX files',
  probe: (dir, isFile) => {
    if (isFile || !findIdx(dir, IDX_FILES.train.labels)) return null;
    const names = readClassNames(dir);
    const splits: Partial<Record<SplitName, ClassFolder[]>> = {};
    for (const part of ['train', 'test'] as const) {
      const r = probePart(dir, part, names);
      if (r && !Array.isArray(r)) return r;
      if (r) splits[part] = r;
    }
    return { ok: true, info: { path: dir, format: 'idx', splits } };
  },
  list: (root, part) => {
    const files = IDX_FILES[part === 'test' ? 'test' : 'train'];
    const imagesFile = findIdx(root, files.images),
      labelsFile = findIdx(root, files.labels);
    if (!imagesFile || !labelsFile) throw new Error(`${root} has no ${files.images} and ${files.labels}`);
    return Array.from(readIdxLabels(labelsFile), (label, index) => ({ kind: 'idx', file: imagesFile, index, label }));
  },
};
