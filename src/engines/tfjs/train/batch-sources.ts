import * as fs from 'node:fs';
import { TlrError } from '../../../errors.js';
import { tf } from '../tf.js';
import type { PlanAugment } from '../../../contracts/plan.js';
import { loadBatch, normalizeBatch } from '../data/loader.js';
import { RESIZER } from '../../../runtime/images/resize.js';
import { augmentBatch } from '../data/augment.js';
import type { Item } from '../../../runtime/images/dataset.js';
import { rng } from '../../../data/random.js';
import { epochOrder, type Sampler } from '../../../runtime/sampler.js';
import { slices, trainingBatches } from '../../../runtime/batches.js';
import { ordered, type Forward } from '../infer/engine.js';

// Where a stage's batches come from: cached feature vectors, or images decoded batch by batch.

/** A batch: inputs, labels, and each example's index in the source's item list. */
export interface XY {
  readonly x: tf.Tensor;
  readonly y: Int32Array;
  readonly ids: Int32Array;
}

export interface BatchSource {
  readonly size: number;
  /** Whether its batches decode images (cached rows do not): only then can loading limit an epoch. */
  readonly decodes: boolean;
  /**
   * Batches for one pass; `train` draws the epoch's order (runtime/sampler.ts: shuffled, or classes balanced; seeded
   * by `epochSeed`) and augments.
   */
  batches(batch: number, train: boolean, epochSeed: number, sampler?: Sampler): AsyncGenerator<XY>;
  /** Frees what the source holds (a tensor, an open file). */
  dispose?(): void;
}

/**
 * Batches of cached rows with their labels: shuffled (seeded) or in order, the same batches
 * wherever the rows are kept. `ids[i]`: the item that row i came from (rows of unreadable items
 * are absent).
 */
abstract class RowSource implements BatchSource {
  readonly decodes = false;
  constructor(
    readonly y: Int32Array,
    readonly ids: Int32Array,
  ) {}
  get size(): number {
    return this.y.length;
  }
  abstract dispose(): void;
  /** The rows `idx`, as one batch tensor. */
  protected abstract rows(idx: readonly number[]): tf.Tensor;
  async *batches(batch: number, train: boolean, epochSeed: number, sampler: Sampler = 'shuffle'): AsyncGenerator<XY> {
    const all = Array.from({ length: this.size }, (_, i) => i);
    const order = train ? epochOrder(all, this.y, sampler, rng(epochSeed)) : all;
    for (const idx of train ? trainingBatches(order, batch) : slices(order, batch)) {
      yield {
        x: this.rows(idx),
        y: Int32Array.from(idx, (j) => this.y[j]!),
        ids: Int32Array.from(idx, (j) => this.ids[j]!),
      };
    }
  }
}

/** Batches of cached backbone features (the whole split held as one tensor). */
export class FeatureSource extends RowSource {
  /** `rowShape`: each row's shape when it is not a vector (a feature map of a split stage's prefix). */
  constructor(
    readonly x: tf.Tensor2D,
    y: Int32Array,
    ids: Int32Array = Int32Array.from(y, (_, i) => i),
    readonly rowShape: readonly number[] | null = null,
  ) {
    super(y, ids);
  }
  dispose(): void {
    this.x.dispose();
  }
  protected rows(idx: readonly number[]): tf.Tensor {
    const rows = tf.gather(this.x, [...idx]);
    if (!this.rowShape) return rows;
    const x = tf.tidy(() => rows.reshape([idx.length, ...this.rowShape!]));
    rows.dispose();
    return x;
  }
}

/**
 * Cached rows read from their file a batch at a time: a split stage's feature maps (200 KB an
 * image for ResNet's block3 at 224 px) take no memory beyond the batch, however many images there are.
 */
export class FileFeatureSource extends RowSource {
  private fd: number | null;
  constructor(
    readonly file: string,
    readonly dim: number,
    y: Int32Array,
    ids: Int32Array,
    readonly rowShape: readonly number[],
  ) {
    super(y, ids);
    this.fd = fs.openSync(file, 'r');
  }
  dispose(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
  protected rows(idx: readonly number[]): tf.Tensor {
    const bytes = this.dim * 4,
      rows = new Float32Array(idx.length * this.dim),
      view = new Uint8Array(rows.buffer);
    idx.forEach((j, k) => {
      const n = fs.readSync(this.fd!, view, k * bytes, bytes, j * bytes);
      if (n !== bytes)
        throw new TlrError(
          `${this.file} ended early at row ${j}: the cache file was changed while the stage ran; run again (a ` +
            `damaged entry is found and computed again)`,
        );
    });
    return tf.tensor(rows, [idx.length, ...this.rowShape]);
  }
}

/**
 * Batches through a forward pass, `forward.depth` in flight and in order: each batch comes out
 * with the pass's output as its x (the input's x is disposed).
 */
export async function* through(batches: AsyncIterable<XY>, forward: Forward): AsyncGenerator<XY> {
  for await (const [b, x] of ordered(
    batches,
    (b) => forward.run(b.x),
    forward.depth,
    (b, x) => tf.dispose([b.x, x]),
  )) {
    b.x.dispose();
    yield { x, y: b.y, ids: b.ids };
  }
}

export type Unreadable = (item: Item, reason: string) => void;

/** Batches of images decoded (and augmented) as they are needed. */
export class ImageSource implements BatchSource {
  readonly decodes = true;
  /** Items found unreadable; they are skipped from then on. */
  readonly bad = new Set<Item>();

  constructor(
    readonly items: readonly Item[],
    readonly inputSize: number,
    readonly pre: { mean: readonly number[]; std: readonly number[] },
    readonly augment: readonly PlanAugment[],
    readonly onUnreadable: Unreadable,
    /** The definition the pixels are for: this tlr's, or a saved model's own (resizerOf). */
    readonly resizer: string = RESIZER,
  ) {}

  get size(): number {
    return this.items.length - this.bad.size;
  }

  async *batches(batch: number, train: boolean, epochSeed: number, sampler: Sampler = 'shuffle'): AsyncGenerator<XY> {
    const readable = this.items.map((_, i) => i).filter((i) => !this.bad.has(this.items[i]!));
    const random = rng(epochSeed);
    // The labels only matter to a balanced draw (a shuffle reads none).
    const labels = sampler === 'balanced' ? this.items.map((item) => item.label) : [];
    const order = train ? epochOrder(readable, labels, sampler, random) : readable;
    for (const chunk of train ? trainingBatches(order, batch) : slices(order, batch)) {
      const augmenting = train && this.augment.length > 0;
      const b = await loadBatch(
        chunk.map((j) => this.items[j]!),
        this.inputSize,
        augmenting ? undefined : this.pre,
        this.resizer,
      );
      for (const s of b.skipped) {
        this.bad.add(s.item);
        this.onUnreadable(s.item, s.reason);
      }
      if (!b.y.length) {
        b.x.dispose();
        continue;
      }
      let x = b.x;
      if (!b.normalized) {
        const aug = augmenting ? augmentBatch(b.x, this.augment, random) : b.x;
        x = normalizeBatch(aug, this.pre.mean, this.pre.std);
        if (aug !== b.x) aug.dispose();
        b.x.dispose();
      }
      const skipped = new Set(b.skipped.map((k) => k.item));
      yield { x, y: b.y, ids: Int32Array.from(chunk.filter((j) => !skipped.has(this.items[j]!))) };
    }
  }
}
