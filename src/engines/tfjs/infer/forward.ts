import type { tf } from '../tf.js';
import type { Program } from './program.js';

// What runs a network forward: a pass engine (ONNX Runtime, TensorFlow.js here or in workers)
// or a model in this thread. Its own file, so ONNX Runtime's engine and the chooser in engine.ts
// both name it without importing each other.

export interface Forward {
  /** Batches worth having in flight at once. */
  readonly depth: number;
  /** The output for a batch; `x` stays the caller's. */
  run(x: tf.Tensor): Promise<tf.Tensor>;
}

export interface Engine extends Forward {
  readonly workers: number;
  /** What runs the passes, as the run's output and environment.json say it. */
  readonly label: string;
  load(program: Program): Promise<void>;
  close(): Promise<void>;
}
