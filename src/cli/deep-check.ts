import type { Plan, PlanSplitSource } from '../contracts/plan.js';
import { DataError, listEntries, type Entry } from '../data/formats/index.js';
import { describeItem, encodedImage } from '../runtime/images/dataset.js';
import { decodeRgb, ImageError } from '../runtime/images/image.js';

// `tlr check --deep`: decodes every image a run would read, before a long run meets the one that
// is broken. sharp only: TensorFlow.js is not loaded.

export interface DeepResult {
  readonly images: number;
  readonly unreadable: readonly { readonly file: string; readonly reason: string }[];
  /** Parts of the data where more than 1% cannot be read: `tlr run` would stop on them. */
  readonly failing: readonly string[];
}

const sources = (plan: Plan): [string, Extract<PlanSplitSource, { kind: 'data' }>][] =>
  (
    [
      ['training data', plan.data.train],
      ['validation data', plan.data.validation],
      ['test data', plan.data.test],
    ] as const
  ).flatMap(([name, s]) =>
    s?.kind === 'data' ? [[name, s] as [string, Extract<PlanSplitSource, { kind: 'data' }>]] : [],
  );

/** Decodes every image of the plan's data (32 at a time), and says which cannot be read. */
export async function deepCheck(plan: Plan): Promise<DeepResult> {
  const unreadable: { file: string; reason: string }[] = [],
    failing: string[] = [];
  let images = 0;
  for (const [name, src] of sources(plan)) {
    // Image files and images inside tar shards are decoded as a run decodes them; IDX images are pixels already.
    const files = listEntries(src, plan.data.classes).filter(
      (e): e is Exclude<Entry, { kind: 'idx' }> => e.kind !== 'idx',
    );
    let bad = 0;
    for (let i = 0; i < files.length; i += 32) {
      await Promise.all(
        files.slice(i, i + 32).map(async (e) => {
          if (e.kind === 'file' && e.problem) {
            bad++;
            unreadable.push({ file: e.path, reason: e.problem });
            return;
          }
          try {
            await decodeRgb(encodedImage(e), 32, describeItem(e));
          } catch (err) {
            if (!(err instanceof ImageError || err instanceof DataError)) throw err;
            bad++;
            unreadable.push({ file: describeItem(e), reason: err.message });
          }
        }),
      );
    }
    images += files.length;
    if (bad > files.length * 0.01)
      failing.push(
        `${bad} of the ${files.length} images of the ${name} cannot be read (more than 1%: tlr run would stop)`,
      );
  }
  return { images, unreadable, failing };
}
