import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { describeItem, type Item } from '../data/dataset.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { ImageSource, through, type Unreadable } from './sources.js';
import type { Forward } from '../infer/engine.js';

// Backbone features computed once and kept on disk. The key hashes everything that changes them:
// the network, its weights' sha256, the feature layer, input size, preprocessing, each image's
// bytes and tlr's version. A changed input is a new key, so a stale entry can never be read.

// 3: computed by the inference program (BatchNorm folded into convolutions), not tf.layers.
export const FEATURES_VERSION = 'tlr-features/3';

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

const fileHashes = new Map<string, string>();
const hashFile = (f: string): string => {
  let h = fileHashes.get(f);
  if (!h) fileHashes.set(f, (h = createHash('sha256').update(fs.readFileSync(f)).digest('hex')));
  return h;
};

/** sha256 of a model's weights as they are now: what a backbone's features depend on once a stage has trained it. */
export function weightsDigest(model: tf.LayersModel): string {
  const h = createHash('sha256');
  for (const w of model.weights) {
    const v = w.read().dataSync() as Float32Array;
    h.update(`${w.name}:`).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex');
}

/** The feature cache's key: the network, its weights, the preprocessing and every image. */
export function featureKey(parts: FeatureKeyParts, items: readonly Item[]): string {
  const h = createHash('sha256').update(FEATURES_VERSION).update(JSON.stringify(parts));
  for (const it of items) {
    if (it.kind === 'file') h.update(`f:${hashFile(it.path)}:${it.label};`);
    else h.update(`i:${hashFile(it.images.file)}:${it.index}:${it.label};`);
  }
  return h.digest('hex').slice(0, 32);
}

export interface Features {
  readonly x: tf.Tensor2D;
  readonly y: Int32Array;
  /** Row i's index in the items (unreadable items have no row). */
  readonly ids: Int32Array;
  /** Items left out because they could not be read. */
  readonly skipped: readonly string[];
}

/** Reads cached features, or computes them with the backbone (started only on a miss) and writes them. */
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
}): Promise<{ features: Features; hit: boolean; workers: number }> {
  const base = path.join(opts.dir, opts.key);
  const meta = `${base}.json`, data = `${base}.f32`;
  if (fs.existsSync(meta) && fs.existsSync(data)) {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as { count: number; dim: number; labels: number[]; ids: number[]; skipped: string[] };
    const buf = fs.readFileSync(data);
    if (buf.length === m.count * m.dim * 4) {
      const x = tf.tensor2d(new Float32Array(buf.buffer, buf.byteOffset, m.count * m.dim), [m.count, m.dim]);
      return { features: { x, y: Int32Array.from(m.labels), ids: Int32Array.from(m.ids), skipped: m.skipped }, hit: true, workers: 0 };
    }
  }
  const skipped: string[] = [];
  const src = new ImageSource(opts.items, opts.inputSize, opts.pre, [], (it, reason) => {
    skipped.push(describeItem(it));
    opts.onUnreadable(it, reason);
  });
  const backbone = await opts.backbone();
  const chunks: Float32Array[] = [];
  const labels: number[] = [], ids: number[] = [];
  let done = 0, dim = 0;
  for await (const b of through(src.batches(opts.batch, false, 0), backbone)) {
    chunks.push(new Float32Array(await b.x.data()));
    dim = b.x.shape[1]!;
    labels.push(...b.y);
    ids.push(...b.ids);
    b.x.dispose();
    done += b.y.length;
    opts.onProgress(done, opts.items.length, backbone.workers);
  }
  const all = new Float32Array(labels.length * dim);
  let p = 0;
  for (const c of chunks) { all.set(c, p); p += c.length; }
  fs.mkdirSync(opts.dir, { recursive: true });
  writeFileAtomic(data, new Uint8Array(all.buffer));
  writeFileAtomic(meta, JSON.stringify({ count: labels.length, dim, labels, ids, skipped }));
  return { features: { x: tf.tensor2d(all, [labels.length, dim || 1]), y: Int32Array.from(labels), ids: Int32Array.from(ids), skipped }, hit: false, workers: backbone.workers };
}
