import type { ModelInfo } from '../../zoo/catalog.js';
import type { PlanWeights } from '../../plan/types.js';
import type { DataInfo } from '../../data/formats/index.js';
import type { SplitPercent } from '../../data/split.js';

// What the checker hands to toPlan: the recipe with every default filled in and every name
// resolved. Only produced when there are no errors.

/** The checker resolves weights straight to the plan's form. */
export type ResolvedWeights = PlanWeights;

export type HeadLayerSpec =
  | { readonly kind: 'dense'; readonly units: number; readonly activation: string }
  | { readonly kind: 'dropout'; readonly rate: number }
  | { readonly kind: 'batchnorm' };

export type ScheduleSpec =
  | { readonly kind: 'constant' }
  | { readonly kind: 'cosine' }
  | { readonly kind: 'step'; readonly factor: number; readonly every: number };

export type Metric = 'val_accuracy' | 'val_loss' | 'accuracy' | 'loss';

export interface StageSpec {
  readonly epochs: number;
  readonly batch: number;
  readonly optimizer: string;
  readonly lr: number;
  readonly schedule: ScheduleSpec;
  readonly earlyStop: { readonly metric: Metric; readonly patience: number } | null;
  readonly classWeights: 'auto' | 'none';
  /** How many backbone layers, counted from the input, are frozen in this stage. */
  readonly frozen: number;
  /** How the frozen set came about, as written (for the plan's description). */
  readonly frozenBy: string;
}

export type AugmentSpec =
  | { readonly kind: 'flip'; readonly mode: 'horizontal' | 'vertical' | 'both' }
  | { readonly kind: 'rotate'; readonly degrees: number }
  | { readonly kind: 'zoom'; readonly amount: number }
  | { readonly kind: 'brightness'; readonly amount: number }
  | { readonly kind: 'contrast'; readonly amount: number }
  | { readonly kind: 'shift'; readonly amount: number };

export type SplitSource =
  | { readonly kind: 'data'; readonly info: DataInfo }
  | { readonly kind: 'split'; readonly percent: number };

export interface Checked {
  readonly file: string;
  readonly name: string;
  readonly seed: number;
  readonly model: ModelInfo;
  readonly weights: ResolvedWeights;
  readonly head: readonly HeadLayerSpec[];
  readonly stages: readonly StageSpec[];
  readonly data: {
    readonly train: DataInfo;
    readonly classes: readonly string[];
    readonly validation: SplitSource;
    readonly test: SplitSource | null;
    readonly split: SplitPercent;
  };
  readonly augment: readonly AugmentSpec[];
  readonly save: { readonly metric: Metric; readonly which: 'best' | 'last'; readonly to: string | null };
}
