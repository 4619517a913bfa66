import type * as G from './generated/contracts.js';

// The execution plan: what the compiler produces and the runtime executes. Plain JSON, validated
// against schema/plan.schema.json before it is printed or run, and typed by the types generated
// from it. Bump PLAN_VERSION on any change that an older runtime would misread.

export const PLAN_FORMAT = 'tlr-plan';
export const PLAN_VERSION = 1;

/** A contract's type as the code holds it: the generated type (schema/ is its source), read-only throughout. */
export type ReadOnly<T> = T extends (infer U)[]
  ? readonly ReadOnly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: ReadOnly<T[K]> }
    : T;

/** The plan (schema/plan.schema.json; the field-by-field documentation is there). */
export type Plan = ReadOnly<G.Plan>;
export type PlanStage = Plan['stages'][number];
export type Metric = Plan['save']['metric'];
export type PlanWeights = Plan['model']['weights'];
export type PlanHeadLayer = Plan['head']['layers'][number];
export type PlanSchedule = PlanStage['lr']['schedule'];
export type PlanBlockRate = NonNullable<PlanStage['lr']['blocks']>[number];
export type PlanAugment = Plan['data']['augment'][number];
export type PlanSplitSource = Plan['data']['train'];
export type PlanExport = NonNullable<Plan['save']['exports']>[number];
/** A data set's layout: one of the data formats in src/data/formats/. */
export type { DataFormat } from '../data/formats/index.js';

/**
 * The metric that decides between epochs tied on `metric`: the loss for an accuracy, the accuracy
 * for a loss, on the same split. On a small validation set accuracy ties often; the earliest of
 * tied epochs is usually the less trained one.
 */
export function tieBreakOf(metric: Metric): { metric: Metric; mode: 'max' | 'min' } {
  // mAP has no loss of its own name: the validation loss breaks its ties.
  if (metric === 'val_map') return { metric: 'val_loss', mode: 'min' };
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

/** What a plan's head predicts: one class per image, or any set of labels (`multi-label`). */
/**
 * How int8 networks are calibrated, by `features int8` and `tlr export --int8` alike: images spread evenly over the
 * training part, each activation's range holding its middle 99.99% of values (measured on MobileNet V2 0.35, the
 * int8 logits' error against float was 0.13 with it and 0.22 with MinMax, whose ranges a few outliers widen).
 */
export const INT8_CALIBRATION = { part: 'train', images: 200, method: 'Percentile', percentile: 99.99 } as const;

export const taskOf = (plan: Plan): 'single-label' | 'multi-label' => plan.task ?? 'single-label';

/**
 * Images in a part of a plan's data (null: the plan has no such part). For multi-label data `counts` holds images per
 * label, where an image counts once for each label it has, so the images are recorded beside them.
 */
export function partImages(data: Plan['data'], part: 'train' | 'validation' | 'test'): number | null {
  if (data.images) return data.images[part];
  const c = data.counts[part];
  return c ? c.reduce((a, b) => a + b, 0) : null;
}
