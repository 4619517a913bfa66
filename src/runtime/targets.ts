// Multi-label targets, the same for both engines (python/tlr_torch/multilabel.py `label_table`, `positive_weights`):
// the 0/1 table of label sets a batch's codes index (runtime/images/dataset.ts Splits.labelSets), and the positive
// weights `class weights auto` gives each label.

/** Row c: label set c as 0/1 over `labels` labels (sets × labels, row-major). */
export function labelTable(sets: readonly (readonly number[])[], labels: number): Float32Array {
  const t = new Float32Array(Math.max(1, sets.length) * labels);
  sets.forEach((set, c) => {
    for (const l of set) t[c * labels + l] = 1;
  });
  return t;
}

/**
 * Per label, the training images without it ÷ those with it (PyTorch's BCEWithLogitsLoss pos_weight as its
 * documentation suggests): a label on 1 image in 10 counts 9 times where present. 1 for a label no image has.
 */
export function positiveWeights(codes: Iterable<number>, sets: readonly (readonly number[])[], labels: number) {
  const has = new Array<number>(labels).fill(0);
  let n = 0;
  for (const c of codes) {
    n++;
    for (const l of sets[c] ?? []) has[l]! += 1;
  }
  return Float32Array.from(has, (p) => (p ? (n - p) / p : 1));
}

/** The 0/1 rows (images × labels) of label-set codes. */
export const truthRows = (codes: ArrayLike<number>, sets: readonly (readonly number[])[], labels: number): number[][] =>
  Array.from(codes, (c) => {
    const row = new Array<number>(labels).fill(0);
    for (const l of sets[c] ?? []) row[l] = 1;
    return row;
  });
