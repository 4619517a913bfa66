// The execution plan: what the compiler produces and the runtime executes. Plain JSON, validated
// against schema/plan.schema.json before it is printed or run. Bump PLAN_VERSION on any change
// that an older runtime would misread.

export const PLAN_FORMAT = 'tlr-plan';
export const PLAN_VERSION = 1;

export type Metric = 'val_accuracy' | 'val_loss' | 'accuracy' | 'loss';

export type PlanWeights =
  | {
      readonly kind: 'imagenet';
      readonly url: string;
      readonly format: 'tfjs' | 'safetensors';
      readonly sha256: string | null;
      readonly localName: string;
      readonly includesTop: boolean;
    }
  | { readonly kind: 'none' }
  | { readonly kind: 'file'; readonly path: string; readonly format: 'tfjs' | 'safetensors' | 'tlr' }
  | { readonly kind: 'url'; readonly url: string; readonly format: 'tfjs' | 'safetensors' };

export type PlanHeadLayer =
  | { readonly kind: 'dense'; readonly units: number; readonly activation: string }
  | { readonly kind: 'dropout'; readonly rate: number }
  | { readonly kind: 'batchnorm' };

/**
 * How the rate moves within a stage. `constant`, `cosine` (to 0 at the stage's end) and `step` change
 * it per epoch; `one-cycle` per batch: up from rate/25 over the warm-up (a quarter of the stage when
 * it gives none), then down to rate/1e4 along a cosine. `warmup` (epochs): the rate rises linearly per
 * batch from 0 over that many epochs (for one-cycle: the length of its rise).
 */
export type PlanSchedule =
  | { readonly kind: 'constant'; readonly warmup?: number }
  | { readonly kind: 'cosine'; readonly warmup?: number }
  | { readonly kind: 'one-cycle'; readonly warmup?: number }
  | { readonly kind: 'step'; readonly factor: number; readonly every: number; readonly warmup?: number };

/** A trained backbone block's own rate (`lr LOW..HIGH`): layers from `from` (catalog index) up to the next block's. */
export interface PlanBlockRate {
  readonly block: string;
  readonly from: number;
  readonly lr: number;
}

export type PlanAugment =
  | { readonly kind: 'flip'; readonly mode: 'horizontal' | 'vertical' | 'both' }
  | { readonly kind: 'rotate'; readonly degrees: number }
  | { readonly kind: 'zoom' | 'brightness' | 'contrast' | 'shift'; readonly amount: number };

/** A data set's layout: one of the data formats in src/data/formats/. */
export type { DataFormat } from '../data/formats/index.js';
import type { DataFormat } from '../data/formats/index.js';

/** Where a split's images come from: a share of the training data, or a data set's own part. */
export type PlanSplitSource =
  | { readonly kind: 'split'; readonly percent: number }
  | {
      readonly kind: 'data';
      readonly path: string;
      readonly format: DataFormat;
      readonly part: 'train' | 'validation' | 'test';
    };

/** An extra format for the saved model: ONNX (model.onnx inside the model folder). */
export interface PlanExport {
  readonly format: 'onnx';
  readonly softmax: boolean;
}

export interface PlanStage {
  readonly index: number;
  readonly epochs: number;
  readonly batch: number;
  readonly optimizer: string;
  /**
   * `auto`: the learning-rate finder picks the initial rate when the stage starts (`initial` is then the rate the stage
   * would have without it).
   */
  readonly lr: {
    readonly initial: number;
    readonly schedule: PlanSchedule;
    readonly auto?: true;
    /**
     * `lr LOW..HIGH`: the trained blocks' rates, lowest block first, spread evenly in log scale from LOW to `initial`
     * (the head's). Absent: every layer trains at `initial`.
     */
    readonly blocks?: readonly PlanBlockRate[];
  };
  /**
   * BatchNorm layers that train: 'keep' their statistics (inference mode) or 'update' them (training mode). Absent in
   * older plans: 'update'.
   */
  readonly batchnorm?: 'keep' | 'update';
  readonly earlyStop: { readonly metric: Metric; readonly patience: number } | null;
  readonly classWeights: 'auto' | 'none';
  /** Backbone layers 0 .. layers-1 (the catalog's order) are frozen; `through` names the last. */
  readonly frozen: {
    readonly layers: number;
    readonly through: string | null;
    readonly by: string;
    readonly params: number;
  };
  readonly trainable: { readonly from: string | null; readonly backboneParams: number; readonly headParams: number };
  /**
   * `use`: the backbone's features are cached and the head trains on them. `prefix`: a stage that
   * trains upper layers without augmentation caches its frozen part's output (through that node).
   */
  readonly featureCache: {
    readonly use: boolean;
    readonly reason: string;
    readonly prefix?: { readonly through: string; readonly bytesPerImage: number };
  };
  /** Stage 1 starts from the loaded weights; each later stage from the best weights of the one before. */
  readonly startFrom: 'weights' | 'previous-best';
}

export interface Plan {
  readonly format: typeof PLAN_FORMAT;
  readonly version: typeof PLAN_VERSION;
  readonly recipe: { readonly name: string; readonly file: string };
  readonly seed: number;
  readonly model: {
    readonly name: string;
    readonly width: number | null;
    readonly inputSize: number;
    readonly preprocessing: {
      readonly mean: readonly number[];
      readonly std: readonly number[];
      readonly description: string;
    };
    readonly featureLayer: string;
    readonly featureSize: number;
    readonly layers: number;
    readonly params: number;
    readonly blocks: readonly {
      readonly name: string;
      readonly firstLayer: string;
      readonly lastLayer: string;
      readonly layers: number;
      readonly params: number;
    }[];
    readonly weights: PlanWeights;
  };
  readonly head: { readonly inputs: number; readonly layers: readonly PlanHeadLayer[]; readonly params: number };
  readonly data: {
    readonly root: string;
    readonly format: DataFormat;
    readonly classes: readonly string[];
    readonly train: PlanSplitSource;
    readonly validation: PlanSplitSource;
    readonly test: PlanSplitSource | null;
    readonly split: { readonly train: number; readonly validation: number; readonly test: number };
    /** Images per class (aligned with `classes`) in each split. */
    readonly counts: {
      readonly train: readonly number[];
      readonly validation: readonly number[];
      readonly test: readonly number[] | null;
    };
    readonly augment: readonly PlanAugment[];
  };
  readonly stages: readonly PlanStage[];
  readonly save: {
    readonly metric: Metric;
    readonly mode: 'max' | 'min';
    readonly which: 'best' | 'last';
    readonly to: string | null;
    /** Extra formats the model is written in at the end (absent: none). */
    readonly exports?: readonly PlanExport[];
    /**
     * An epoch that ties the best on `metric` replaces it when it is better on this one (absent in older plans:
     * tieBreakOf(metric)).
     */
    readonly tieBreak?: { readonly metric: Metric; readonly mode: 'max' | 'min' };
  };
  readonly output: { readonly runsDir: string };
}

/**
 * The metric that decides between epochs tied on `metric`: the loss for an accuracy, the accuracy
 * for a loss, on the same split. On a small validation set accuracy ties often; the earliest of
 * tied epochs is usually the less trained one.
 */
export function tieBreakOf(metric: Metric): { metric: Metric; mode: 'max' | 'min' } {
  const other = (
    metric.endsWith('loss') ? metric.replace('loss', 'accuracy') : metric.replace('accuracy', 'loss')
  ) as Metric;
  return { metric: other, mode: other.endsWith('loss') ? 'min' : 'max' };
}

/** Trainable parameters of a plan's last stage (backbone and head): what a sweep's table compares. */
export const trainableParams = (plan: Plan): number => {
  const s = plan.stages.at(-1);
  return s ? s.trainable.backboneParams + s.trainable.headParams : 0;
};
