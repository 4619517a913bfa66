import type { ModelInfo } from '../../zoo/catalog.js';
import type {
  Metric,
  PlanExport,
  PlanAugment,
  PlanHeadLayer,
  PlanSchedule,
  PlanWeights,
} from '../../contracts/plan.js';
import type { DataInfo } from '../../data/formats/index.js';
import type { SplitPercent } from '../../data/split-counts.js';

// What the checker hands to toPlan: the recipe with every default filled in and every name
// resolved. Only produced when there are no errors.

/** The checker resolves weights straight to the plan's form. */
export type ResolvedWeights = PlanWeights;

// The checker's types are the plan's wherever the two agree.
export type HeadLayerSpec = PlanHeadLayer;
export type ScheduleSpec = PlanSchedule;
export type { Metric };

export interface StageSpec {
  readonly epochs: number;
  readonly batch: number;
  readonly optimizer: string;
  readonly lr: number;
  /**
   * `lr auto`: the learning-rate finder picks the stage's rate when it starts (`lr` is then the rate the stage would
   * otherwise have).
   */
  readonly lrAuto: boolean;
  /** `lr LOW..HIGH`: the lowest trained block's rate (`lr` is the head's); null for one rate everywhere. */
  readonly lrLow: number | null;
  /** BatchNorm layers that train: in inference mode with their statistics kept, or in training mode updating them. */
  readonly batchnorm: 'keep' | 'update';
  readonly schedule: ScheduleSpec;
  readonly earlyStop: { readonly metric: Metric; readonly patience: number } | null;
  readonly classWeights: 'auto' | 'none';
  /** `balanced`: each epoch draws every class equally often (`balance classes`); `shuffle`: every image once. */
  readonly sampler: 'shuffle' | 'balanced';
  /** How many backbone layers, counted from the input, are frozen in this stage. */
  readonly frozen: number;
  /** How the frozen set came about, as written (for the plan's description). */
  readonly frozenBy: string;
}

export type AugmentSpec = PlanAugment;

export type SplitSource =
  | { readonly kind: 'data'; readonly info: DataInfo }
  | { readonly kind: 'split'; readonly percent: number };

export interface CheckedData {
  readonly train: DataInfo;
  readonly classes: readonly string[];
  readonly validation: SplitSource;
  readonly test: SplitSource | null;
  readonly split: SplitPercent;
  /** Multi-label data: images per label and images in each part (the split made by iterative stratification). */
  readonly multi: MultiLabelCounts | null;
}

/** Multi-label data's counts per part: images that have each label (in the order of the classes), and images. */
export interface MultiLabelCounts {
  readonly counts: { readonly train: number[]; readonly validation: number[]; readonly test: number[] | null };
  readonly images: { readonly train: number; readonly validation: number; readonly test: number | null };
}

export interface Checked {
  readonly file: string;
  readonly name: string;
  readonly seed: number;
  readonly model: ModelInfo;
  readonly weights: ResolvedWeights;
  readonly head: readonly HeadLayerSpec[];
  /** `multi-label`: one sigmoid per label (the head says so, and the data agrees); else one softmax over classes. */
  readonly task: 'single-label' | 'multi-label';
  readonly stages: readonly StageSpec[];
  readonly data: CheckedData;
  readonly augment: readonly AugmentSpec[];
  /** The precision of the passes that compute cached features (`features int8`; float by default). */
  readonly features: 'float' | 'int8';
  readonly save: { readonly metric: Metric; readonly which: 'best' | 'last'; readonly to: string | null };
  readonly exports: readonly PlanExport[];
}
