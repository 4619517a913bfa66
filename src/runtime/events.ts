import type { ReadOnly } from '../contracts/plan.js';
import type * as G from '../contracts/generated/contracts.js';

// What a run tells the world. The runtime emits these and nothing else; the CLI's reporters, the
// NDJSON stream and the terminal UI only subscribe.

/** An event of `tlr run --json` (schema/events.schema.json, whose generated types these are, read-only). */
export type RunEvent = ReadOnly<G.TlrEvent>;
export type EpochMetrics = ReadOnly<G.EpochMetrics>;
/** An engine's metrics of an epoch before they go out: numbers (NaN where the event's JSON has null). */
export type EngineMetrics = { readonly [K in keyof EpochMetrics]: number };
/** An epoch's metrics as numbers (NaN for the JSON's null): what an engine computes, and what a reader compares. */
export const engineMetrics = (m: EpochMetrics): EngineMetrics => ({
  loss: m.loss ?? Number.NaN,
  accuracy: m.accuracy ?? Number.NaN,
  val_loss: m.val_loss ?? Number.NaN,
  val_accuracy: m.val_accuracy ?? Number.NaN,
  ...(m.val_map !== undefined ? { val_map: m.val_map ?? Number.NaN } : {}),
});
/** One metric of an epoch: NaN where the epoch has none (mAP of a single-label run). */
export const metricValue = (m: EngineMetrics, k: keyof EngineMetrics): number => m[k] ?? Number.NaN;
export type ClassReport = ReadOnly<G.ClassReport>;
export type Evaluation = ReadOnly<G.Evaluation>;

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
