import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { describeItem, type Item } from '../../../runtime/images/dataset.js';
import { eachFileDigest, fileDigests, saveDigests } from '../../../runtime/images/file-digests.js';
import { AtomicWriter, writeFileAtomic } from '../../../files/atomic.js';
import { ImageSource, through, type Unreadable } from './batch-sources.js';
import type { Forward } from '../infer/engine.js';

// Backbone features computed once and kept on disk. The key hashes everything that changes them:
// the network, its weights' sha256, the feature layer, input size, preprocessing, each image's
// bytes (through the stat index of runtime/images/file-digests.ts) and tlr's version. A changed input
// is a new key, so a stale entry can never be read.

// 3: computed by the inference program (BatchNorm folded into convolutions), not tf.layers.
// 4: entries carry a sha256 of their data and the reasons images were skipped.
// 5: images resized by runtime/images/resize.ts (the torch engine's twin too), not by libvips' Lanczos.
export const FEATURES_VERSION = 'tlr-features/5';

export interface FeatureKeyParts {
  readonly tlr: string;
  readonly network: string;
  readonly width: number | null;
  readonly weightsSha256: string;
  readonly featureLayer: string;
  readonly inputSize: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** sha256 of a model's weights as they are now: what a backbone's features depend on once a stage has trained it. */
export function weightsDigest(model: tf.LayersModel): string {
  const h = createHash('sha256');
  for (const w of model.weights) {
    const v = w.read().dataSync() as Float32Array;
    h.update(`${w.name}:`).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex');
}

const isImage = (it: Item) => it.kind === 'file' && !it.problem;
const containerOf = (it: Exclude<Item, { kind: 'file' }>) => (it.kind === 'idx' ? it.images.file : it.shard);

/** The feature cache's key: the network, its weights, the preprocessing and every image. */
/** `parts`: what else the entry depends on (FeatureKeyParts for a split's features; int8's calibration too). */
export function featureKey(parts: object, items: readonly Item[]): string {
  const h = createHash('sha256').update(FEATURES_VERSION).update(JSON.stringify(parts));
  // An IDX file or a shard holds many items: its digest once.
  const containers = new Map<string, string>();
  for (const it of items) if (it.kind !== 'file') containers.set(containerOf(it), '');
  const names = [...containers.keys()];
  fileDigests(names).forEach((d, i) => {
    containers.set(names[i]!, d);
  });
  const hash = (it: Item, digest: string) => {
    if (it.kind === 'file') h.update(`f:${it.problem ? 'problem' : digest}:${it.label};`);
    else if (it.kind === 'idx') h.update(`i:${containers.get(containerOf(it))}:${it.index}:${it.label};`);
    else h.update(`m:${containers.get(containerOf(it))}:${it.offset}:${it.size}:${it.label};`);
  };
  // Every image file at once (the stat index stats them on several threads), each digest hashed as it comes, in the
  // items' order: the items between two images first.
  let next = 0;
  const upToImage = () => {
    while (next < items.length && !isImage(items[next]!)) hash(items[next++]!, '');
  };
  const images: string[] = [];
  for (const it of items) if (it.kind === 'file' && !it.problem) images.push(it.path);
  eachFileDigest(images, (digest) => {
    upToImage();
    hash(items[next++]!, digest);
  });
  upToImage();
  saveDigests();
  return h.digest('hex').slice(0, 32);
}

export interface Features {
  /** The rows in memory; null when asked to leave them on disk (read a batch at a time from `file`). */
  readonly x: tf.Tensor2D | null;
  /** The entry's data file: `y.length` rows of `dim` floats. */
  readonly file: string;
  readonly dim: number;
  readonly y: Int32Array;
  /** Row i's index in the items (unreadable items have no row). */
  readonly ids: Int32Array;
  /** Items left out because they could not be read. */
  readonly skipped: readonly string[];
}

/** What a cache entry's .json holds; the .f32 beside it is `count` rows of `dim` floats. */
interface EntryMeta {
  readonly count: number;
  readonly dim: number;
  readonly labels: readonly number[];
  readonly ids: readonly number[];
  /** Items that could not be read when the entry was made, with why: reported again on every hit. */
  readonly skipped: readonly { readonly id: number; readonly reason: string }[];
  /** sha256 of the .f32 file. */
  readonly sha256: string;
}

const isInt = (v: unknown, min = 0): v is number => Number.isInteger(v) && (v as number) >= min;

/** The entry's metadata and rows when every field checks out against `items` and the data file; else why not. */
function readEntry(
  meta: string,
  data: string,
  items: number,
  load: boolean,
): { meta: EntryMeta; rows: Float32Array | null } | { problem: string } {
  let m: EntryMeta;
  try {
    m = JSON.parse(fs.readFileSync(meta, 'utf8'));
  } catch (e) {
    return { problem: `${meta} is not valid JSON (${(e as Error).message})` };
  }
  const ints = (xs: unknown, max: number) => Array.isArray(xs) && xs.every((v) => isInt(v) && v < max);
  if (
    typeof m !== 'object' ||
    m === null ||
    !isInt(m.count) ||
    !isInt(m.dim, 1) ||
    m.count > items ||
    !ints(m.labels, 1 << 16) ||
    !ints(m.ids, items) ||
    m.labels.length !== m.count ||
    m.ids.length !== m.count ||
    !Array.isArray(m.skipped) ||
    m.count + m.skipped.length !== items ||
    !m.skipped.every((s) => isInt(s?.id) && s.id < items && typeof s.reason === 'string') ||
    typeof m.sha256 !== 'string'
  ) {
    return { problem: `${meta} does not describe this data (a field is missing, out of range or inconsistent)` };
  }
  const size = fs.statSync(data).size;
  if (size !== m.count * m.dim * 4)
    return { problem: `${data} has ${size} bytes, not the ${m.count * m.dim * 4} its entry says` };
  const buf = load ? fs.readFileSync(data) : null;
  if ((buf ? createHash('sha256').update(buf).digest('hex') : hashFileInChunks(data)) !== m.sha256)
    return { problem: `${data} does not match its checksum (it was changed or damaged)` };
  return {
    meta: m,
    rows: buf ? new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)) : null,
  };
}

/** A file's sha256, read 8 MB at a time (a split stage's cache can be larger than memory should hold). */
function hashFileInChunks(file: string): string {
  const h = createHash('sha256'),
    chunk = Buffer.alloc(8 << 20),
    fd = fs.openSync(file, 'r');
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n <= 0) break;
      h.update(chunk.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** A cache entry's features, as read back: rows in memory unless they stay on disk. */
function fromEntry(
  r: Extract<ReturnType<typeof readEntry>, { meta: unknown }>,
  data: string,
  opts: { readonly items: readonly Item[]; readonly onUnreadable: Unreadable },
): Features {
  for (const s of r.meta.skipped) opts.onUnreadable(opts.items[s.id]!, s.reason);
  return {
    x: r.rows ? tf.tensor2d(r.rows, [r.meta.count, r.meta.dim]) : null,
    file: data,
    dim: r.meta.dim,
    y: Int32Array.from(r.meta.labels),
    ids: Int32Array.from(r.meta.ids),
    skipped: r.meta.skipped.map((s) => describeItem(opts.items[s.id]!)),
  };
}

/** The rows of every batch as one [count, dim] tensor. */
function joined(chunks: readonly Float32Array[], count: number, dim: number): tf.Tensor2D {
  const all = new Float32Array(count * dim);
  let p = 0;
  for (const c of chunks) {
    all.set(c, p);
    p += c.length;
  }
  return tf.tensor2d(all, [count, dim || 1]);
}

/**
 * Reads cached features, or computes them with the backbone (started only on a miss) and writes
 * them. Every entry is checked on read (fields, sizes, a sha256 of its data); a bad one is
 * recomputed, and `onBadEntry` says why. Unreadable images recorded with an entry are reported
 * again on a hit.
 */
export async function features(opts: {
  readonly dir: string;
  readonly key: string;
  readonly backbone: () => Promise<Forward & { readonly workers: number }>;
  readonly items: readonly Item[];
  readonly inputSize: number;
  readonly pre: { mean: readonly number[]; std: readonly number[] };
  readonly batch: number;
  readonly onUnreadable: Unreadable;
  readonly onProgress: (done: number, total: number, workers: number) => void;
  readonly onBadEntry?: (problem: string) => void;
  /** Leave the rows on disk (a split stage's feature maps): memory stays flat however many images there are. */
  readonly onDisk?: boolean;
}): Promise<{ features: Features; hit: boolean; workers: number }> {
  const base = path.join(opts.dir, opts.key);
  const meta = `${base}.json`,
    data = `${base}.f32`;
  if (fs.existsSync(meta) && fs.existsSync(data)) {
    const r = readEntry(meta, data, opts.items.length, !opts.onDisk);
    if ('meta' in r) return { features: fromEntry(r, data, opts), hit: true, workers: 0 };
    opts.onBadEntry?.(`${r.problem}; computing the features again`);
  }
  const skipped: { id: number; reason: string }[] = [];
  const index = new Map(opts.items.map((it, i) => [it, i]));
  const src = new ImageSource(opts.items, opts.inputSize, opts.pre, [], (it, reason) => {
    skipped.push({ id: index.get(it)!, reason });
    opts.onUnreadable(it, reason);
  });
  const backbone = await opts.backbone();
  // The rows go to the data file as they come (and stay in memory too unless `onDisk`); the entry
  // that vouches for them is written after it, so a reader never sees an entry without its data.
  const out = new AtomicWriter(data),
    hash = createHash('sha256');
  const chunks: Float32Array[] = [];
  const labels: number[] = [],
    ids: number[] = [];
  let done = 0,
    dim = 0;
  try {
    for await (const b of through(src.batches(opts.batch, false, 0), backbone)) {
      const rows = new Float32Array(await b.x.data());
      // A row is one example's output, whatever its shape (a vector, or a feature map of a split stage).
      dim = b.x.size / b.x.shape[0]!;
      b.x.dispose();
      const bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
      out.write(bytes);
      hash.update(bytes);
      if (!opts.onDisk) chunks.push(rows);
      labels.push(...b.y);
      ids.push(...b.ids);
      done += b.y.length;
      opts.onProgress(done, opts.items.length, backbone.workers);
    }
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  const entry: EntryMeta = { count: labels.length, dim, labels, ids, skipped, sha256: hash.digest('hex') };
  writeFileAtomic(meta, JSON.stringify(entry));
  const x = opts.onDisk ? null : joined(chunks.splice(0), labels.length, dim);
  return {
    features: {
      x,
      file: data,
      dim,
      y: Int32Array.from(labels),
      ids: Int32Array.from(ids),
      skipped: skipped.map((s) => describeItem(opts.items[s.id]!)),
    },
    hit: false,
    workers: backbone.workers,
  };
}
