// How a class's images are divided between train, validation and test. Shared by the compiler (to
// print counts in the plan) and the runtime (to divide the files): both must agree exactly.

export interface SplitPercent {
  readonly train: number;
  readonly validation: number;
  readonly test: number;
}

export interface SplitCount {
  readonly train: number;
  readonly validation: number;
  readonly test: number;
}

/** Per-class counts for `n` images. Validation and test are rounded; train takes the rest. */
export function splitCount(n: number, p: SplitPercent): SplitCount {
  const test = Math.round((n * p.test) / 100);
  const validation = Math.min(n - test, Math.round((n * p.validation) / 100));
  return { train: n - test - validation, validation, test };
}
