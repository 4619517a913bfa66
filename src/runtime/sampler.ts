import { shuffle } from '../data/random.js';

// How an epoch draws its training rows, alike in every engine (python/tlr_torch/random.py's `epoch_order` is its
// twin; test/fixtures/twins/sampler.json holds them together). The order comes from the epoch's random source only,
// so every process, rank and loader worker draws the same one, whatever their number.

export type Sampler = 'shuffle' | 'balanced';

/**
 * The rows `keep` (indices into `labels`) in an epoch's order. `shuffle`: each once. `balanced` (`balance classes`): as
 * many draws as rows, each class drawn equally often (the first `n mod classes` classes once more); a class's rows are
 * taken in a shuffled cycle, reshuffled when used up, so a class of 3 among classes of 300 repeats its rows rather than
 * being outweighed. Classes go in ascending label order; the draws are shuffled together at the end.
 */
export function epochOrder(
  keep: readonly number[],
  labels: ArrayLike<number>,
  sampler: Sampler,
  r: () => number,
): number[] {
  if (sampler === 'shuffle') return shuffle([...keep], r);
  const byClass = new Map<number, number[]>();
  for (const i of keep) {
    const c = labels[i]!;
    const rows = byClass.get(c);
    if (rows) rows.push(i);
    else byClass.set(c, [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const per = Math.floor(keep.length / Math.max(1, classes.length)),
    extra = keep.length % Math.max(1, classes.length);
  const out: number[] = [];
  classes.forEach((c, k) => {
    const rows = byClass.get(c)!;
    let want = per + (k < extra ? 1 : 0);
    while (want > 0) {
      const cycle = shuffle([...rows], r).slice(0, want);
      out.push(...cycle);
      want -= cycle.length;
    }
  });
  return shuffle(out, r);
}
