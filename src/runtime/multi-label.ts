import type { Evaluation } from './events.js';

// Multi-label metrics, alike in both engines (python/tlr_torch/multilabel.py is the twin; test/fixtures/twins/
// multilabel.json holds them together): average precision per label and their mean (mAP), the F1-optimal threshold
// of each label on the validation part, and, at given thresholds, per-label precision, recall and F1, micro and macro
// F1 and subset accuracy (every label of an image right).
//
// `probs[i][l]`: image i's sigmoid output for label l; `truth[i][l]`: 1 when the image has the label.

export type Matrix = readonly (readonly number[])[];

/**
 * Average precision of one label, as scikit-learn's average_precision_score defines it: the precision at each
 * distinct score, from the highest down, weighted by the recall it adds. Null when no image has the label.
 */
export function averagePrecision(scores: readonly number[], truth: readonly number[]): number | null {
  const positives = truth.reduce((a, b) => a + (b ? 1 : 0), 0);
  if (!positives) return null;
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  let tp = 0,
    fp = 0,
    recall = 0,
    ap = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (truth[i]) tp++;
    else fp++;
    // Images tied on a score are one step: the precision is taken after the last of them.
    if (k + 1 < order.length && scores[order[k + 1]!] === scores[i]) continue;
    const r = tp / positives;
    ap += (r - recall) * (tp / (tp + fp));
    recall = r;
  }
  return ap;
}

const column = (m: Matrix, l: number) => m.map((row) => row[l]!);

/** The mean of the labels' average precisions (labels no image has are left out); null when none has any. */
export function meanAveragePrecision(probs: Matrix, truth: Matrix, labels: number): number | null {
  const aps = Array.from({ length: labels }, (_, l) => averagePrecision(column(probs, l), column(truth, l)));
  const known = aps.filter((x): x is number => x !== null);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
}

const f1 = (tp: number, fp: number, fn: number) => (tp ? (2 * tp) / (2 * tp + fp + fn) : 0);

/**
 * Each label's F1-optimal threshold: the score at which predicting the label for images scoring at least it gives
 * the highest F1 on these images (the higher threshold on a tie). 0.5 for a label no image has.
 */
export function bestThresholds(probs: Matrix, truth: Matrix, labels: number): number[] {
  return Array.from({ length: labels }, (_, l) => {
    const s = column(probs, l),
      t = column(truth, l);
    const positives = t.reduce((a, b) => a + (b ? 1 : 0), 0);
    if (!positives) return 0.5;
    const order = s.map((_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b);
    let tp = 0,
      fp = 0,
      best = -1,
      at = 0.5;
    for (let k = 0; k < order.length; k++) {
      if (t[order[k]!]) tp++;
      else fp++;
      if (k + 1 < order.length && s[order[k + 1]!] === s[order[k]!]) continue;
      const score = f1(tp, fp, positives - tp);
      if (score > best) {
        best = score;
        at = s[order[k]!]!;
      }
    }
    return at;
  });
}

export interface LabelReport {
  readonly name: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Images that have the label. */
  readonly support: number;
  readonly threshold: number;
  /** Average precision (null: no image has the label). */
  readonly ap: number | null;
}

export interface MultiLabelEvaluation {
  readonly images: number;
  readonly map: number | null;
  readonly microF1: number;
  readonly macroF1: number;
  /** Images whose every label is right (the predicted set is exactly the true one). */
  readonly subsetAccuracy: number;
  readonly labels: readonly LabelReport[];
}

/** The metrics of predictions at `thresholds` (a label is predicted when its score is at least its threshold). */
export function multiLabelEvaluation(
  probs: Matrix,
  truth: Matrix,
  names: readonly string[],
  thresholds: readonly number[],
): MultiLabelEvaluation {
  const L = names.length;
  const cells = names.map(() => ({ tp: 0, fp: 0, fn: 0 }));
  let exact = 0;
  probs.forEach((row, i) => {
    let right = true;
    for (let l = 0; l < L; l++) {
      const said = row[l]! >= thresholds[l]!,
        is = !!truth[i]![l];
      if (said && is) cells[l]!.tp++;
      else if (said) cells[l]!.fp++;
      else if (is) cells[l]!.fn++;
      if (said !== is) right = false;
    }
    if (right) exact++;
  });
  const labels = names.map((name, l) => {
    const { tp, fp, fn } = cells[l]!;
    return {
      name,
      precision: tp + fp ? tp / (tp + fp) : 0,
      recall: tp + fn ? tp / (tp + fn) : 0,
      f1: f1(tp, fp, fn),
      support: tp + fn,
      threshold: thresholds[l]!,
      ap: averagePrecision(column(probs, l), column(truth, l)),
    };
  });
  const sum = cells.reduce((a, c) => ({ tp: a.tp + c.tp, fp: a.fp + c.fp, fn: a.fn + c.fn }), { tp: 0, fp: 0, fn: 0 });
  return {
    images: probs.length,
    map: meanAveragePrecision(probs, truth, L),
    microF1: f1(sum.tp, sum.fp, sum.fn),
    macroF1: L ? labels.reduce((a, r) => a + r.f1, 0) / L : 0,
    subsetAccuracy: probs.length ? exact / probs.length : 0,
    labels,
  };
}

/** Rows of an images × labels array. */
export const matrixOf = (flat: ArrayLike<number>, labels: number): number[][] =>
  Array.from({ length: labels ? flat.length / labels : 0 }, (_, i) =>
    Array.from({ length: labels }, (_, l) => flat[i * labels + l]!),
  );

/**
 * A multi-label evaluation as runs, reports and `tlr eval` carry it (schema/common.schema.json `evaluation`):
 * `accuracy` is the subset accuracy, `classes` the labels (with threshold and average precision), no confusion matrix.
 */
export function multiLabelReport(
  split: 'test' | 'validation',
  probs: Matrix,
  truth: Matrix,
  names: readonly string[],
  thresholds: readonly number[],
  loss: number,
): Evaluation {
  const m = multiLabelEvaluation(probs, truth, names, thresholds);
  return {
    split,
    task: 'multi-label',
    images: m.images,
    loss,
    accuracy: m.subsetAccuracy,
    subsetAccuracy: m.subsetAccuracy,
    map: m.map,
    microF1: m.microF1,
    macroF1: m.macroF1,
    classes: m.labels,
    confusion: [],
  };
}
