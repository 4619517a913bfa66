import type { Worker } from 'node:worker_threads';
import { tf, valuesOf } from '../tf.js';
import { TlrError } from '../../../errors.js';
import { spawnWorker } from '../../../runtime/threads.js';
import { singleThreaded } from '../backend.js';
import { ortKernelsOn } from '../kernels/ort-kernels.js';
import {
  batchNorms,
  lossDenominator,
  movingStats,
  shardGradients,
  trainableVars,
  type LossSpec,
} from './shard-math.js';
import type { ShardReply, ShardRequest } from './shard-messages.js';

// Data-parallel training on worker threads, for backends that compute on one core (wasm has no
// threads in Node). The main thread and each worker hold the model; a batch is cut into one shard
// per thread, each computes its shard's gradients of the batch's loss, the main thread adds them
// and makes the one update, and the next step sends the new weights out. So the update is the one
// a single thread makes for the whole batch, up to float rounding, except in BatchNorm layers
// that train: each shard normalises by its own statistics (as DistributedDataParallel without
// SyncBatchNorm does), and the moving statistics become the shards' updates averaged by shard size
// (the moving mean exactly as one batch's; the variance without the spread between shard means).

/** A training worker that died (out of memory, say). */
export class TrainingWorkerFailure extends TlrError {
  constructor(message: string) {
    super(`${message}; TLR_WORKERS=0 trains on the main thread alone`);
  }
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (r: ShardReply) => void; reject: (e: Error) => void }>;
}

export interface StepResult {
  /** The batch's loss (mean, or weighted as the loss is). */
  readonly loss: number;
  /** Correct predictions in the batch. */
  readonly hits: number;
}

/** Row ranges for `n` rows in `k` shards, as even as can be, the first ones a row longer; empty shards left out. */
export function shardRows(n: number, k: number): [number, number][] {
  const base = Math.floor(n / k),
    extra = n % k,
    out: [number, number][] = [];
  let at = 0;
  for (let i = 0; i < k; i++) {
    const size = base + (i < extra ? 1 : 0);
    if (size) out.push([at, at + size]);
    at += size;
  }
  return out;
}

/**
 * Whether training on `backend` shares batches among `threads` threads: on a backend that computes
 * on one core, unless its convolutions already run on ONNX Runtime's threads. There, sharding was
 * slower than one thread (bench/split-threads.ts: 0.93x for ResNet-18's block 4): each step sends
 * the weights out and the gradients back, while ONNX Runtime splits each convolution by itself.
 */
export function sharesBatches(backend: string, threads: number): boolean {
  return threads > 1 && singleThreaded(backend) && !(backend === 'wasm' && ortKernelsOn());
}

export class ShardTrainer {
  private nextId = 0;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly slots: Slot[],
  ) {
    slots.forEach((slot, i) => {
      slot.worker.on('message', (r: ShardReply) => {
        const p = slot.pending.get(r.id);
        slot.pending.delete(r.id);
        if (r.type === 'error') p?.reject(new TrainingWorkerFailure(`training worker ${i + 1}: ${r.message}`));
        else p?.resolve(r);
      });
      slot.worker.on('error', (e) =>
        this.fail(new TrainingWorkerFailure(`training worker ${i + 1} failed: ${e.message}`)),
      );
      slot.worker.on('exit', (code) => {
        if (!this.closed) this.fail(new TrainingWorkerFailure(`training worker ${i + 1} stopped (exit code ${code})`));
      });
    });
  }

  /** `workers` threads on `backend` (a BackendName), each with a replica of `model` as it is now. */
  static async start(model: tf.LayersModel, workers: number, backend: string): Promise<ShardTrainer> {
    const slots = Array.from({ length: workers }, () => ({
      worker: spawnWorker(import.meta.url, 'shard-worker', { backend }),
      pending: new Map(),
    }));
    const t = new ShardTrainer(model, slots);
    try {
      const json = JSON.stringify(model.toJSON(null, false));
      const keep = batchNorms(model)
        .filter((l) => l.keepStatistics)
        .map((l) => l.name);
      const shapes = model.weights.map((w) => w.shape.join('x'));
      await Promise.all(
        slots.map((s) => {
          const weights = model.weights.map((w) => (w.read().dataSync() as Float32Array).slice());
          return t.send(
            s,
            { type: 'load', id: t.nextId++, json, weights, shapes, keep },
            weights.map((a) => a.buffer as ArrayBuffer),
          );
        }),
      );
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  get threads(): number {
    return this.slots.length + 1;
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(e);
      s.pending.clear();
    }
  }

  private send(slot: Slot, request: ShardRequest, transfer: ArrayBuffer[]): Promise<ShardReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      slot.pending.set(request.id, { resolve, reject });
      slot.worker.postMessage(request, transfer);
    });
  }

  /** One update of `opt` for the batch (`x`, `y`): the shards' gradients added, applied once. */
  async step(opt: tf.Optimizer, x: tf.Tensor, y: Int32Array, loss: Omit<LossSpec, 'denominator'>): Promise<StepResult> {
    const spec: LossSpec = { ...loss, denominator: lossDenominator(y, loss.classWeights) };
    const vars = trainableVars(this.model),
      stats = movingStats(this.model);
    const ranges = shardRows(y.length, this.threads);
    const rowSize = x.size / x.shape[0]!,
      data = valuesOf(x);
    const now = [...vars, ...stats].map((v) => v.dataSync() as Float32Array);
    // Workers take shards 1.., the main thread shard 0 while they run.
    const replies = ranges.slice(1).map(([a, b], i) => {
      const weights = now.map((w) => w.slice()),
        xs = data.slice(a * rowSize, b * rowSize),
        ys = y.slice(a, b);
      return this.send(
        this.slots[i]!,
        { type: 'step', id: this.nextId++, weights, x: xs, shape: [b - a, ...x.shape.slice(1)], y: ys, spec },
        [...weights, xs, ys].map((t) => t.buffer as ArrayBuffer),
      );
    });
    const [a0, b0] = ranges[0]!;
    const x0 = ranges.length === 1 ? x : x.slice(a0, b0 - a0);
    let mine: Awaited<ReturnType<typeof shardGradients>>;
    try {
      mine = await shardGradients(this.model, vars, x0, y.subarray(a0, b0), spec);
    } finally {
      if (x0 !== x) x0.dispose();
    }
    let theirs: Extract<ShardReply, { type: 'stepped' }>[];
    try {
      theirs = (await Promise.all(replies)) as Extract<ShardReply, { type: 'stepped' }>[];
    } catch (e) {
      tf.dispose(mine.grads);
      throw e;
    }
    const named: tf.NamedTensorMap = {};
    tf.tidy(() => {
      vars.forEach((v, i) => {
        named[v.name] = tf.keep(theirs.reduce((g, r) => g.add(tf.tensor(r.grads[i]!, v.shape)), mine.grads[i]!));
      });
      // Moving statistics: each shard's update, weighted by its rows.
      stats.forEach((v, i) => {
        const sum = theirs.reduce(
          (s, r, k) => s.add(tf.tensor(r.stats[i]!, v.shape).mul(ranges[k + 1]![1] - ranges[k + 1]![0])),
          v.mul(b0 - a0),
        );
        v.assign(sum.div(y.length));
      });
    });
    opt.applyGradients(named);
    tf.dispose([...mine.grads, ...Object.values(named)]);
    return {
      loss: theirs.reduce((s, r) => s + r.loss, mine.loss),
      hits: theirs.reduce((s, r) => s + r.hits, mine.hits),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
