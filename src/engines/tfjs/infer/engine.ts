import * as os from 'node:os';
import { tf } from '../tf.js';
import { Runner } from './execute.js';
import { InferencePool } from './worker-pool.js';
import type { Program } from './program.js';
import type { Engine, Forward } from './forward.js';
import { singleThreaded } from '../backend.js';
import { loadOrt, OrtEngine, OrtError } from '../onnx/runtime.js';
import { UsageError } from '../../../errors.js';

// Where inference runs: in this thread, or in a pool of worker threads when the backend computes
// on one core (wasm has no threads in Node; cpu is plain JavaScript). Either way a batch gives
// the same numbers: workers run the same program on whole batches.

export type { Engine, Forward };

/** A tf.LayersModel in inference mode, in this thread. */
export const modelForward = (model: tf.LayersModel): Forward => ({
  depth: 1,
  run: async (x) => tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor),
});

class InProcess implements Engine {
  readonly workers = 0;
  readonly depth = 1;
  private runner: Runner;
  constructor(program: Program) {
    this.runner = new Runner(program);
  }
  get label(): string {
    return `TensorFlow.js (${tf.getBackend()}, this thread)`;
  }
  async load(program: Program): Promise<void> {
    this.runner.dispose();
    this.runner = new Runner(program);
  }
  async run(x: tf.Tensor): Promise<tf.Tensor> {
    return this.runner.run(x);
  }
  async close(): Promise<void> {
    this.runner.dispose();
  }
}

class Pooled implements Engine {
  constructor(private readonly pool: InferencePool) {}
  get workers(): number {
    return this.pool.size;
  }
  get label(): string {
    return `TensorFlow.js (${tf.getBackend()}, ${this.pool.size} worker threads)`;
  }
  // One batch per worker, and the next one decoding meanwhile.
  get depth(): number {
    return this.pool.size + 1;
  }
  load(program: Program): Promise<void> {
    return this.pool.load(program);
  }
  async run(x: tf.Tensor): Promise<tf.Tensor> {
    // dataSync's array may be the cpu backend's own storage; the copy is handed to the worker.
    const out = await this.pool.run((x.dataSync() as Float32Array).slice(), x.shape);
    return tf.tensor(out.data, [...out.shape]);
  }
  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Worker threads for inference on `backend`: one per core for the single-threaded backends, none
 * for TensorFlow's native ones (they use every core already). TLR_WORKERS sets the number (0 or 1:
 * none) and makes it `forced`: used even for passes too short to repay starting the workers.
 */
export interface Workers {
  readonly workers: number;
  readonly forced: boolean;
}

/** How many inference worker threads `backend` gets: TLR_WORKERS, or one per core on single-threaded backends. */
export function inferenceWorkers(backend: string, env: NodeJS.ProcessEnv = process.env): Workers {
  const set = env.TLR_WORKERS;
  if (set !== undefined && set !== '') {
    const n = Number(set);
    if (!Number.isInteger(n) || n < 0 || n > 64)
      throw new WorkersError(`TLR_WORKERS must be a whole number of worker threads from 0 (none) to 64, not '${set}'`);
    return { workers: n <= 1 ? 0 : n, forced: true };
  }
  if (!singleThreaded(backend)) return { workers: 0, forced: false };
  const cores = os.availableParallelism();
  return { workers: cores > 1 ? Math.min(cores, 8) : 0, forced: false };
}

/** A bad TLR_WORKERS; the CLI reports it as a usage error. */
export class WorkersError extends UsageError {}

/** Threads for one pass over `images` in batches of `batch`: two batches each repay starting them, unless forced. */
export const passWorkers = (w: Workers, images: number, batch: number): number =>
  w.workers > 0 && (w.forced || images >= w.workers * batch * 2) ? w.workers : 0;

/** An engine for `program` with TensorFlow.js: `workers` threads on `backend`, or this thread when workers < 2. */
export async function startEngine(program: Program, workers: number, backend: string): Promise<Engine> {
  return workers >= 2 ? new Pooled(await InferencePool.start(workers, backend, program)) : new InProcess(program);
}

/** How passes that only run a network are run: the engine chosen, and its threads. */
export interface PassSettings {
  readonly inference: InferenceChoice;
  /** TensorFlow.js worker threads (when the engine is tfjs). */
  readonly workers: Workers;
  readonly backend: string;
  readonly ortThreads: number;
}

/**
 * A new engine for `program`, for a pass of `images` images in batches of `batch`: ONNX Runtime
 * when it is the choice, else TensorFlow.js with worker threads where they repay starting.
 */
export function startPassEngine(program: Program, s: PassSettings, images: number, batch: number): Promise<Engine> {
  return s.inference.engine === 'onnx'
    ? OrtEngine.start(program, s.ortThreads)
    : startEngine(program, passWorkers(s.workers, images, batch), s.backend);
}

/** Which engine runs passes that only run a network, and why. */
export interface InferenceChoice {
  readonly engine: 'onnx' | 'tfjs';
  /** Why not ONNX Runtime, when it is not used. */
  readonly why: string | null;
  readonly forced: boolean;
}

/**
 * ONNX Runtime when it loads, else TensorFlow.js (with the reason); TLR_INFERENCE=onnx|tfjs forces
 * one (onnx that cannot load is then an error).
 */
export function chooseInference(env: NodeJS.ProcessEnv = process.env): InferenceChoice {
  const set = env['TLR_INFERENCE'];
  if (set && set !== 'onnx' && set !== 'tfjs') throw new UsageError(`TLR_INFERENCE must be onnx or tfjs, not '${set}'`);
  if (set === 'tfjs') return { engine: 'tfjs', why: 'TLR_INFERENCE=tfjs', forced: true };
  const ort = loadOrt();
  if ('ort' in ort) return { engine: 'onnx', why: null, forced: set === 'onnx' };
  if (set === 'onnx')
    throw new OrtError(
      `TLR_INFERENCE=onnx, but ${ort.error}; install it (npm install onnxruntime-node) or unset TLR_INFERENCE`,
    );
  return { engine: 'tfjs', why: ort.error, forced: false };
}

/**
 * Applies `fn` to each item with up to `depth` calls in flight; yields results in the source's
 * order. Results never yielded (an error, or the consumer stopped) go to `discard`.
 */
export async function* ordered<T, R>(
  src: AsyncIterable<T>,
  fn: (t: T) => Promise<R>,
  depth: number,
  discard?: (t: T, r: R) => void,
): AsyncGenerator<[T, R]> {
  const queue: Promise<[T, R]>[] = [];
  try {
    for await (const t of src) {
      const p = fn(t).then((r): [T, R] => [t, r]);
      p.catch(() => undefined); // awaited in order below; a later failure must not go unhandled meanwhile
      queue.push(p);
      if (queue.length >= Math.max(1, depth)) yield await queue.shift()!;
    }
    while (queue.length) yield await queue.shift()!;
  } finally {
    // Abandoned: let what is in flight settle before returning, and free what it made.
    for (const r of await Promise.allSettled(queue)) if (r.status === 'fulfilled') discard?.(...r.value);
  }
}
