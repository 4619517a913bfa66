import type { LossSpec } from './shard-math.js';

// What the data-parallel trainer and its workers say to each other.

export type ShardRequest =
  /**
   * A replica of the model: its JSON, every weight (model.weights order), and its BatchNorm layers that keep their
   * statistics.
   */
  | {
      readonly type: 'load';
      readonly id: number;
      readonly json: string;
      readonly weights: Float32Array[];
      readonly shapes: string[];
      readonly keep: string[];
    }
  /** One shard: the trainable weights and moving statistics as they are now, then the shard's rows. */
  | {
      readonly type: 'step';
      readonly id: number;
      readonly weights: Float32Array[];
      readonly x: Float32Array;
      readonly shape: readonly number[];
      readonly y: Int32Array;
      readonly spec: LossSpec;
    };

export type ShardReply =
  | { readonly type: 'loaded'; readonly id: number }
  | {
      readonly type: 'stepped';
      readonly id: number;
      readonly grads: Float32Array[];
      readonly stats: Float32Array[];
      readonly loss: number;
      readonly hits: number;
    }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
