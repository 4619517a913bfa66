// "Did you mean" for names: the closest candidates by edit distance.

/** The edit distance between two words. */
export function distance(a: string, b: string): number {
  const m = a.length,
    n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]!;
}

/**
 * Up to `max` candidates close to `word`, nearest first; `limit` is the largest edit distance accepted (default: a
 * third of the word).
 */
export function nearest(
  word: string,
  candidates: readonly string[],
  max = 3,
  limit = Math.max(2, Math.floor(word.length / 3)),
): string[] {
  const w = word.toLowerCase();
  return [...new Set(candidates)]
    .map((c) => ({
      c,
      d: distance(w, c.toLowerCase()) - (c.toLowerCase().startsWith(w) || w.startsWith(c.toLowerCase()) ? 1 : 0),
    }))
    .filter(({ d }) => d <= limit)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, max)
    .map(({ c }) => c);
}

/** A "did you mean" hint with the nearest candidates, if any are near. */
export const didYouMean = (word: string, candidates: readonly string[]): string[] => {
  const near = nearest(word, candidates);
  return near.length ? [`did you mean ${near.map((n) => `\`${n}\``).join(', ')}?`] : [];
};

/** A list as prose: 'a, b or c'. */
export const oneOf = (xs: readonly string[]): string =>
  xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
