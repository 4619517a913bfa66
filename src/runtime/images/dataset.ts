import { taskOf, type Plan, type PlanSplitSource } from '../../contracts/plan.js';
import { stratify } from '../../data/stratify.js';
import { listEntries, readIdxImages, readMember, type Entry, type IdxImages } from '../../data/formats/index.js';
import { splitCount } from '../../data/split-counts.js';
import { hashString, rng, shuffle } from '../../data/random.js';

// The images of each split, as items: a file, an image inside an IDX file, or one in a tar shard.
// Each data format lists its own (src/data/formats); splits made by percentage are stratified and
// seeded, with the same counts the plan printed.

export type Item =
  /** A file as its format listed it (`problem`: why it will not be opened; it is reported as unreadable). */
  | Extract<Entry, { kind: 'file' }>
  | { readonly kind: 'idx'; readonly images: IdxImages; readonly index: number; readonly label: number }
  | Extract<Entry, { kind: 'member' }>;

export interface Splits {
  readonly train: readonly Item[];
  readonly validation: readonly Item[];
  readonly test: readonly Item[];
  /**
   * Multi-label data: each distinct set of labels (indices into the classes), in order of first appearance; an item's
   * `label` is its set's index here. Both engines train on these codes (a batch's targets are their sets' rows), so
   * samplers, shards and caches carry one number per image whatever the task.
   */
  readonly labelSets?: readonly (readonly number[])[];
}

const toItem = (e: Entry): Item =>
  e.kind === 'idx' ? { kind: 'idx', images: readIdxImages(e.file), index: e.index, label: e.label } : e;

/** Every image of one part of a data set, labelled by index into `classes`. */
export function listItems(src: Extract<PlanSplitSource, { kind: 'data' }>, classes: readonly string[]): Item[] {
  return listEntries(src, classes).map(toItem);
}
/** The labels of an item of multi-label data (none for an image without a label, or of single-label data). */
export const labelsOf = (it: Item): readonly number[] => (it.kind === 'file' ? (it.labels ?? []) : []);

/** The plan's splits as items. */
export function listSplits(plan: Plan): Splits {
  const d = plan.data;
  const own = listItems(d.train as Extract<PlanSplitSource, { kind: 'data' }>, d.classes);
  const external = (s: PlanSplitSource | null) => (s?.kind === 'data' ? listItems(s, d.classes) : []);
  if (taskOf(plan) === 'multi-label') {
    // The checker's stratification over the same rows in the same order: the plan's counts are these parts'.
    const part = stratify(own.map(labelsOf), d.classes.length, d.split, plan.seed);
    const of = (k: number) => own.filter((_, i) => part[i] === k);
    return coded({
      train: of(0),
      validation: of(1).concat(external(d.validation)),
      test: of(2).concat(external(d.test)),
    });
  }
  const byClass = d.classes.map((_, c) => own.filter((it) => it.label === c));
  // concat, not push(...): a class of a few hundred thousand images would overflow the call stack as arguments.
  let train: Item[] = [],
    validation: Item[] = [],
    test: Item[] = [];
  byClass.forEach((items, c) => {
    const n = splitCount(items.length, d.split);
    const order = shuffle([...items], rng(plan.seed ^ hashString(d.classes[c]!)));
    test = test.concat(order.slice(0, n.test));
    validation = validation.concat(order.slice(n.test, n.test + n.validation));
    train = train.concat(order.slice(n.test + n.validation));
  });
  return { train, validation: validation.concat(external(d.validation)), test: test.concat(external(d.test)) };
}

/** Multi-label splits with each item's `label` set to its label set's code (Splits.labelSets). */
function coded(parts: Omit<Splits, 'labelSets'>): Splits {
  const c = labelCoder();
  return {
    train: parts.train.map(c.code),
    validation: parts.validation.map(c.code),
    test: parts.test.map(c.code),
    labelSets: c.labelSets,
  };
}

/** Multi-label items with each `label` set to its label set's code, and the sets (`tlr eval` of multi-label data). */
export function codedItems(items: readonly Item[]): { items: Item[]; labelSets: readonly (readonly number[])[] } {
  const c = labelCoder();
  return { items: items.map(c.code), labelSets: c.labelSets };
}

/** Codes label sets in the order it meets them. */
function labelCoder() {
  const codes = new Map<string, number>(),
    labelSets: number[][] = [];
  const code = (it: Item): Item => {
    if (it.kind !== 'file') return it;
    const set = [...labelsOf(it)].sort((a, b) => a - b),
      key = set.join(',');
    if (!codes.has(key)) codes.set(key, labelSets.push(set) - 1);
    return { ...it, label: codes.get(key)! };
  };
  return { code, labelSets };
}

/** An item as messages name it: its path, FILE[INDEX] inside an IDX file, SHARD[MEMBER] inside a tar shard. */
export const describeItem = (it: Item): string =>
  it.kind === 'file' ? it.path : it.kind === 'idx' ? `${it.images.file}[${it.index}]` : `${it.shard}[${it.name}]`;

/** An image file's path or a shard member's bytes: what decodeRgb reads (IDX images are pixels already). */
export const encodedImage = (it: Exclude<Item, { kind: 'idx' }>): string | Buffer =>
  it.kind === 'file' ? it.path : readMember(it);
