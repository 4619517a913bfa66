// An image's answer from its probabilities, the same for `tlr predict` and `tlr serve`: the `k` most probable labels,
// and for a multi-label model every label whose probability reaches its threshold.

export interface Ranked {
  readonly top: { readonly label: string; readonly probability: number }[];
  /** Multi-label: the labels at or above their thresholds, most probable first. */
  readonly labels?: { readonly label: string; readonly probability: number; readonly threshold: number }[];
}

/** `p`: one probability per label, in the order of `names`; `thresholds`: null for one label per image. */
export function rankLabels(
  names: readonly string[],
  thresholds: readonly number[] | null,
  p: ArrayLike<number>,
  k: number,
): Ranked {
  const ranked = Array.from(p, (probability, c) => ({ label: names[c] ?? `#${c}`, probability, c })).sort(
    (a, b) => b.probability - a.probability,
  );
  const top = ranked.slice(0, k).map(({ label, probability }) => ({ label, probability }));
  if (!thresholds) return { top };
  const labels = ranked
    .filter((x) => x.probability >= thresholds[x.c]!)
    .map(({ label, probability, c }) => ({ label, probability, threshold: thresholds[c]! }));
  return { top, labels };
}
