import type { Location, Name, Statement } from '../ast.js';
import { PARTS, partCounts, stratify } from '../../data/stratify.js';
import type { DataInfo } from '../../data/formats/index.js';
import type { SplitPercent } from '../../data/split-counts.js';
import type { Ctx } from './context.js';
import type { Grouped } from './statements.js';
import type { MultiLabelCounts, SplitSource } from './checked.js';

// Multi-label data in the checker: each part's images per label (the split made by iterative stratification,
// data/stratify.ts, or a part's own data), a label too rare to reach every part, and a head that does not say the
// task its data has (or says a task the data does not have).

/** The images per label of a part given by its own data, in the order of `classes`. */
function ownCounts(info: DataInfo, classes: readonly string[]): { counts: number[]; images: number } {
  const names = info.splits.train?.map((f) => f.name) ?? [];
  const sets = info.labelSets ?? [];
  const counts = classes.map(() => 0);
  for (const s of sets)
    for (const l of s) {
      const k = classes.indexOf(names[l]!);
      if (k >= 0) counts[k]! += 1;
    }
  return { counts, images: sets.length };
}

/**
 * Multi-label data's counts per part; null (reported) when a part the split makes would hold no image of a label, or
 * a part's own data is not multi-label.
 */
export function multiLabelCounts(
  ctx: Ctx,
  loc: Location,
  train: DataInfo,
  split: SplitPercent,
  seed: number,
  given: { validation: SplitSource | undefined; test: SplitSource | undefined },
): MultiLabelCounts | null {
  const classes = train.splits.train!.map((f) => f.name);
  const sets = train.labelSets!;
  const made = partCounts(sets, classes.length, stratify(sets, classes.length, split, seed));
  const wanted = { validation: !given.validation, test: !given.test && split.test > 0 };
  const empty = classes.flatMap((c, i) => {
    const none = PARTS.filter((k) => (k === 'train' || wanted[k]) && made.counts[k][i] === 0);
    const n = train.splits.train![i]!.images;
    return none.length ? [`\`${c}\` (${n} image${n === 1 ? '' : 's'}: none for ${none.join(' or ')})`] : [];
  });
  if (empty.length) {
    const list = empty;
    ctx.report('TLR1313', loc.span, `too few images of ${list.join(', ')} to reach every part of the split`, [
      'a label needs at least one image in each part: add images of it, or remove it from the labels file',
    ]);
    return null;
  }
  const part = (src: SplitSource | undefined, k: 'validation' | 'test') => {
    if (src?.kind !== 'data') return { counts: made.counts[k], images: made.images[k] };
    return ownCounts(src.info, classes);
  };
  const v = part(given.validation, 'validation');
  const t = given.test || split.test > 0 ? part(given.test, 'test') : null;
  return {
    counts: { train: made.counts.train, validation: v.counts, test: t?.counts ?? null },
    images: { train: made.images.train, validation: v.images, test: t?.images ?? null },
  };
}

/** Whether the head says the task the data has: `multi-label` on multi-label data, and only there. */
export function taskAgrees(
  ctx: Ctx,
  head: Extract<Statement, { kind: 'head' }> | undefined,
  data: { readonly multi: MultiLabelCounts | null } | null,
  on: Location | undefined,
  shown: string,
): boolean {
  if (!data) return true;
  const multiHead = !!head?.task;
  if (multiHead && !data.multi) {
    ctx.report('TLR1206', head!.task!.span, `the head is multi-label, but ${shown} gives one label per image`, [
      'remove `multi-label`, or train on a CSV with a `labels` column (labels separated by `;`) or one 0/1 column ' +
        'per label',
    ]);
    return false;
  }
  if (!multiHead && data.multi) {
    ctx.report('TLR1312', (head ?? on)!.span, `${shown} gives several labels per image, but the head is single-label`, [
      head ? "write `multi-label` after the head's layers" : 'write `head multi-label` (one sigmoid per label)',
    ]);
    return false;
  }
  return true;
}

/**
 * What only one task has: `map` where the data gives one label per image (in `save best by` or `early stop on`,
 * TLR1614); with several labels per image, `balance classes` (there is no one class per image to draw by) and a head
 * ending in softmax (the labels are not exclusive) (TLR1615).
 */
export function fitsTask(ctx: Ctx, g: Grouped, task: 'single-label' | 'multi-label' | null): boolean {
  if (task === 'multi-label') return multiLabelFits(ctx, g);
  if (task !== 'single-label') return true;
  const named = [g.globals.save?.best, ...g.stages.map((st) => st.earlyStop?.metric)];
  const wrong = named.filter((n): n is Name => !!n && (n.text === 'map' || n.text === 'val_map'));
  for (const n of wrong)
    ctx.report('TLR1614', n.span, `\`${n.text}\` is a multi-label metric, and the data gives one label per image`, [
      'write `val_accuracy` or `val_loss`; for labels per image, train on a CSV with a `labels` column and write ' +
        "`multi-label` after the head's layers",
    ]);
  return !wrong.length;
}

/** A multi-label recipe's stages draw images as they come, and its head ends in one sigmoid (or none) per label. */
function multiLabelFits(ctx: Ctx, g: Grouped): boolean {
  let ok = true;
  for (const st of g.stages)
    if (st.balance?.mode.text === 'classes') {
      ok = false;
      ctx.report(
        'TLR1615',
        st.balance.mode.span,
        '`balance classes` draws by class, and an image here has several labels',
        ["write `class weights auto` instead: each label's positives weigh (images without it) ÷ (images with it)"],
      );
    }
  const last = g.globals.head?.layers.at(-1);
  const softmax = last?.args.find((a) => a.text === 'softmax');
  if (softmax) {
    ok = false;
    ctx.report('TLR1615', softmax.span, 'a multi-label head cannot end in softmax: its labels are not exclusive', [
      `write \`${last!.name.text}(${last!.args[0]?.text ?? 'N'})\` (tlr applies one sigmoid per label), or \`sigmoid\``,
    ]);
  }
  return ok;
}
