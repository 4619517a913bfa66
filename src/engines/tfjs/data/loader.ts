import { hostTensor, tf } from '../tf.js';
import { ImageError, normalize, type Preprocess } from '../../../runtime/images/image.js';
import { decodeCached, PixelCache } from '../../../runtime/images/pixel-cache.js';
import { RESIZER } from '../../../runtime/images/resize.js';
import { fileDigests } from '../../../runtime/images/file-digests.js';
import { cacheRoot } from '../../../files/cache-root.js';
import { describeItem, encodedImage, type Item } from '../../../runtime/images/dataset.js';

// Batches of images as [B, S, S, 3] tensors scaled to [0, 1], decoded on demand so memory does not
// grow with the data set. Unreadable images are skipped and handed back for the caller to report.

export interface Batch {
  /** Pixels in [0, 1]; or normalised with the network's preprocessing when `normalized`. */
  readonly x: tf.Tensor4D;
  readonly normalized: boolean;
  readonly y: Int32Array;
  readonly skipped: readonly { readonly item: Item; readonly reason: string }[];
}

const caches = new Map<string, PixelCache | null>();
/** The decoded-image cache for `size` (pixel-cache.ts), opened once per cache folder and size. */
function pixelCache(size: number, resizer: string): PixelCache | null {
  const key = `${cacheRoot()}|${process.env['TLR_PIXEL_CACHE'] ?? ''}|${size}|${resizer}`;
  if (!caches.has(key)) caches.set(key, PixelCache.open(resizer, size));
  return caches.get(key)!;
}

/**
 * Decodes a batch of items to RGB at `size`; unreadable ones are reported in the batch, not thrown.
 * With `pre`, image files are normalised as they are copied into the batch (one pass in JavaScript
 * instead of four tensor passes: decoding was the limit of feature extraction on ONNX Runtime).
 */
export async function loadBatch(
  items: readonly Item[],
  size: number,
  pre?: Preprocess,
  resizer = RESIZER,
): Promise<Batch> {
  const skipped: { item: Item; reason: string }[] = [];
  // Image files and shard members are decoded by sharp; IDX images are pixels already.
  const files = items.filter((it) => it.kind !== 'idx');
  const cache = files.length ? pixelCache(size, resizer) : null;
  // Image files' digests from the stat index: a cached image is then read without opening its file.
  const paths = files.filter((it) => it.kind === 'file' && !it.problem).map((it) => (it as { path: string }).path);
  const digests = new Map(cache && paths.length ? fileDigests(paths).map((d, i) => [paths[i]!, d] as const) : []);
  const decoded = await Promise.all(
    files.map(async (it) => {
      if (it.kind === 'file' && it.problem) {
        skipped.push({ item: it, reason: it.problem });
        return null;
      }
      try {
        const known = it.kind === 'file' ? digests.get(it.path) : undefined;
        return await decodeCached(cache, encodedImage(it), size, describeItem(it), known, resizer);
      } catch (e) {
        skipped.push({ item: it, reason: e instanceof ImageError ? e.message : String(e) });
        return null;
      }
    }),
  );
  const fileRgb = new Map(files.map((it, i) => [it, decoded[i]] as const));
  const kept = items.filter((it) => it.kind === 'idx' || fileRgb.get(it));
  const y = Int32Array.from(kept, (it) => it.label);
  if (pre && kept.length && kept.every((it) => it.kind !== 'idx')) {
    const px = size * size * 3,
      buf = new Float32Array(kept.length * px);
    kept.forEach((it, i) => {
      normalize(fileRgb.get(it)!, pre, buf, i * px);
    });
    return { x: hostTensor(buf, [kept.length, size, size, 3]) as tf.Tensor4D, y, skipped, normalized: true };
  }
  const x = tf.tidy(() => {
    const parts: tf.Tensor4D[] = [];
    // IDX images are small and grey: resize on the backend, in one go, then repeat the channel.
    const idx = kept.filter((it): it is Extract<Item, { kind: 'idx' }> => it.kind === 'idx');
    const rgb = kept.filter((it) => it.kind !== 'idx');
    const pieces = new Map<Item, number>();
    if (idx.length) {
      const { rows, cols } = idx[0]!.images;
      const buf = new Uint8Array(idx.length * rows * cols);
      idx.forEach((it, i) => {
        buf.set(it.images.pixels.subarray(it.index * rows * cols, (it.index + 1) * rows * cols), i * rows * cols);
      });
      const grey = tf.tensor4d(buf, [idx.length, rows, cols, 1], 'int32').toFloat().div(255);
      const resized =
        rows === size && cols === size ? grey : tf.image.resizeBilinear(grey as tf.Tensor4D, [size, size], true);
      parts.push(tf.tile(resized, [1, 1, 1, 3]) as tf.Tensor4D);
      idx.forEach((it, i) => {
        pieces.set(it, i);
      });
    }
    if (rgb.length) {
      const buf = new Uint8Array(rgb.length * size * size * 3);
      rgb.forEach((it, i) => {
        buf.set(fileRgb.get(it)!, i * size * size * 3);
      });
      parts.push(tf.tensor4d(buf, [rgb.length, size, size, 3], 'int32').toFloat().div(255) as tf.Tensor4D);
      rgb.forEach((it, i) => {
        pieces.set(it, (idx.length ? idx.length : 0) + i);
      });
    }
    if (!parts.length) return tf.zeros([0, size, size, 3]) as tf.Tensor4D;
    const all = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
    // Back to the items' order.
    const order = kept.map((it) => pieces.get(it)!);
    const sorted = order.every((v, i) => v === i);
    return (sorted ? all : tf.gather(all, order)) as tf.Tensor4D;
  });
  return { x, y, skipped, normalized: false };
}

/** (x - mean) / std per channel, on pixels in [0, 1]. */
export function normalizeBatch(x: tf.Tensor4D, mean: readonly number[], std: readonly number[]): tf.Tensor4D {
  return tf.tidy(() => x.sub(tf.tensor1d([...mean])).div(tf.tensor1d([...std])) as tf.Tensor4D);
}
