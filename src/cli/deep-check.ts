import type { Plan, PlanSplitSource } from '../plan/types.js';
import { listEntries, type Entry } from '../data/formats/index.js';
import { decodeRgb, ImageError } from '../runtime/data/image.js';

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

/** Decodes every image file of the plan's data (32 at a time), and says which cannot be read. */
export async function deepCheck(plan: Plan): Promise<DeepResult> {
  const unreadable: { file: string; reason: string }[] = [],
    failing: string[] = [];
  let images = 0;
  for (const [name, src] of sources(plan)) {
    const files = listEntries(src, plan.data.classes).filter(
      (e): e is Extract<Entry, { kind: 'file' }> => e.kind === 'file',
    );
    let bad = 0;
    for (let i = 0; i < files.length; i += 32) {
      await Promise.all(
        files.slice(i, i + 32).map(async (e) => {
          if (e.problem) {
            bad++;
            unreadable.push({ file: e.path, reason: e.problem });
            return;
          }
          try {
            await decodeRgb(e.path, 32);
          } catch (err) {
            if (!(err instanceof ImageError)) throw err;
            bad++;
            unreadable.push({ file: e.path, reason: err.message });
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
