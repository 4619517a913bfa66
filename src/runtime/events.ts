import type { Plan } from '../plan/types.js';

// What a run tells the world. The runtime emits these and nothing else; the CLI's reporters, the
// NDJSON stream and the terminal UI only subscribe.

export interface EpochMetrics {
  readonly loss: number;
  readonly accuracy: number;
  readonly val_loss: number;
  readonly val_accuracy: number;
}

export interface ClassReport {
  readonly name: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

export interface Evaluation {
  readonly split: 'test' | 'validation';
  readonly images: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly macroF1: number;
  readonly classes: readonly ClassReport[];
  /** rows: true class, columns: predicted class. */
  readonly confusion: readonly (readonly number[])[];
}

export type RunEvent =
  | {
      readonly type: 'plan';
      readonly plan: Plan;
      readonly runDir: string;
      readonly backend: string;
      readonly resumed: boolean;
    }
  | {
      readonly type: 'weights';
      readonly phase: 'resolving' | 'downloading' | 'ready';
      readonly url?: string;
      readonly received?: number;
      readonly total?: number | null;
      readonly from?: string;
      readonly sha256?: string;
    }
  | {
      readonly type: 'data';
      readonly counts: { readonly train: number; readonly validation: number; readonly test: number };
    }
  | {
      readonly type: 'features';
      readonly phase: 'hit' | 'computing' | 'progress' | 'done';
      readonly split?: string;
      readonly done?: number;
      readonly total?: number;
      readonly key: string /** Worker threads computing them (0: this thread). */;
      readonly workers?: number /** What computed them (ONNX Runtime, TensorFlow.js). */;
      readonly engine?: string /** A split stage's frozen part, cached: the layer it ends at. */;
      readonly through?: string;
    }
  | {
      readonly type: 'stage-start';
      readonly stage: number;
      readonly of: number;
      readonly epochs: number;
      readonly trainable: number;
      readonly cached: boolean;
      readonly backend: string;
    }
  | {
      readonly type: 'batch';
      readonly stage: number;
      readonly epoch: number;
      readonly batch: number;
      readonly batches: number;
      readonly loss: number;
    }
  | {
      readonly type: 'epoch';
      readonly stage: number;
      readonly epoch: number;
      readonly epochs: number;
      readonly metrics: EpochMetrics;
      readonly lr: number;
      readonly seconds: number;
      readonly best: boolean;
    }
  | {
      readonly type: 'checkpoint';
      readonly stage: number;
      readonly epoch: number;
      readonly path: string;
      readonly best: boolean;
    }
  | {
      readonly type: 'lr-found';
      readonly stage: number;
      readonly lr: number;
      readonly rule: string;
      readonly minimum: number;
      readonly steepest: number;
      readonly steps: number /** Chosen in an earlier process (a resumed run). */;
      readonly resumed?: boolean;
    }
  | {
      readonly type: 'early-stop';
      readonly stage: number;
      readonly epoch: number;
      readonly metric: string;
      readonly patience: number;
    }
  | { readonly type: 'evaluation'; readonly evaluation: Evaluation }
  | { readonly type: 'warning'; readonly message: string; readonly file?: string }
  | { readonly type: 'interrupted'; readonly runDir: string; readonly stage: number; readonly epoch: number }
  | { readonly type: 'error'; readonly message: string }
  | {
      readonly type: 'finished';
      readonly runDir: string;
      readonly modelDir: string;
      readonly best: {
        readonly metric: string;
        readonly value: number;
        readonly stage: number;
        readonly epoch: number;
      };
      readonly evaluation: Evaluation | null;
      readonly seconds: number /** Files `export …` wrote (model.onnx). */;
      readonly exported?: readonly string[];
    };

export type Listener = (e: RunEvent) => void;

/**
 * A minimal typed emitter: the runtime's only way out. With `replay`, a late subscriber first gets every earlier event.
 */
export class Events {
  private readonly listeners: Listener[] = [];
  private readonly past: RunEvent[] | null;
  constructor(opts: { replay?: boolean } = {}) {
    this.past = opts.replay ? [] : null;
  }
  on(l: Listener): () => void {
    this.past?.forEach(l);
    this.listeners.push(l);
    return () => this.listeners.splice(this.listeners.indexOf(l), 1);
  }
  emit(e: RunEvent): void {
    this.past?.push(e);
    for (const l of this.listeners) l(e);
  }
}

/** The event of type `K`. */
export type EventOf<K extends RunEvent['type']> = Extract<RunEvent, { type: K }>;

/**
 * A consumer's handling of every event type, one row per type: the type checker fails until a
 * row exists for each, so a new event cannot be forgotten by a view or a reporter.
 */
export type EventTable<R> = { readonly [K in RunEvent['type']]: (e: EventOf<K>) => R };

/** Calls the row of `table` for `e`'s type. */
export const dispatch = <R>(table: EventTable<R>, e: RunEvent): R => (table[e.type] as (e: RunEvent) => R)(e);

/** Every event type (schema/events.schema.json lists the same; a test checks). */
export const EVENT_TYPES = Object.keys({
  plan: 1,
  weights: 1,
  data: 1,
  features: 1,
  'stage-start': 1,
  batch: 1,
  epoch: 1,
  checkpoint: 1,
  'lr-found': 1,
  'early-stop': 1,
  evaluation: 1,
  warning: 1,
  interrupted: 1,
  error: 1,
  finished: 1,
} satisfies Record<RunEvent['type'], 1>) as RunEvent['type'][];
