import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan, PlanSplitSource } from '../../plan/types.js';
import { isImageFile, SPLIT_FOLDERS, IDX_FILES } from '../../data/formats.js';
import { readIdxLabels } from '../../data/probe.js';
import { splitCount } from '../../data/split.js';
import { readIdxImages, type IdxImages } from './idx.js';
import { hashString, rng, shuffle } from '../random.js';

// The images of each split, as items: a file, or an image inside an IDX file. Splits made by
// percentage are stratified and seeded, with the same counts the plan printed.

export type Item =
  | { readonly kind: 'file'; readonly path: string; readonly label: number }
  | { readonly kind: 'idx'; readonly images: IdxImages; readonly index: number; readonly label: number };

export interface Splits {
  readonly train: readonly Item[];
  readonly validation: readonly Item[];
  readonly test: readonly Item[];
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (isImageFile(e.name)) out.push(p);
  }
  return out;
}

const find = (dir: string, names: readonly string[]) => names.map((n) => path.join(dir, n)).find((p) => fs.existsSync(p));
const idxFile = (dir: string, base: string) => [path.join(dir, base), path.join(dir, `${base}.gz`)].find((f) => fs.existsSync(f));

/** Every image of one part of a data set, labelled by index into `classes`. */
export function listItems(src: Extract<PlanSplitSource, { kind: 'data' }>, classes: readonly string[]): Item[] {
  const label = new Map(classes.map((c, i) => [c, i]));
  const folders = (root: string): Item[] =>
    classes.flatMap((c) => {
      const d = path.join(root, c);
      return fs.existsSync(d) ? walk(d).map((p): Item => ({ kind: 'file', path: p, label: label.get(c)! })) : [];
    });
  switch (src.format) {
    case 'folders': return folders(src.path);
    case 'split-folders': {
      const dir = find(src.path, SPLIT_FOLDERS[src.part]);
      if (!dir) throw new Error(`${src.path} has no ${src.part} folder`);
      return folders(dir);
    }
    case 'csv': {
      const base = path.dirname(src.path);
      return fs.readFileSync(src.path, 'utf8').split(/\r?\n/).slice(1).filter((l) => l.trim()).flatMap((l): Item[] => {
        const [p, c] = l.split(',').map((s) => s.trim()) as [string, string];
        const y = label.get(c);
        return y === undefined ? [] : [{ kind: 'file', path: path.resolve(base, p), label: y }];
      });
    }
    case 'idx': {
      const files = IDX_FILES[src.part === 'test' ? 'test' : 'train'];
      const imagesFile = idxFile(src.path, files.images), labelsFile = idxFile(src.path, files.labels);
      if (!imagesFile || !labelsFile) throw new Error(`${src.path} has no ${files.images} and ${files.labels}`);
      const images = readIdxImages(imagesFile);
      const labels = readIdxLabels(labelsFile);
      return Array.from(labels, (y, index): Item => ({ kind: 'idx', images, index, label: y }));
    }
  }
}

/** The plan's splits as items. */
export function listSplits(plan: Plan): Splits {
  const d = plan.data;
  const own = listItems(d.train as Extract<PlanSplitSource, { kind: 'data' }>, d.classes);
  const byClass = d.classes.map((_, c) => own.filter((it) => it.label === c));
  const train: Item[] = [], validation: Item[] = [], test: Item[] = [];
  byClass.forEach((items, c) => {
    const n = splitCount(items.length, d.split);
    const order = shuffle([...items], rng(plan.seed ^ hashString(d.classes[c]!)));
    test.push(...order.slice(0, n.test));
    validation.push(...order.slice(n.test, n.test + n.validation));
    train.push(...order.slice(n.test + n.validation));
  });
  const external = (s: PlanSplitSource | null, into: Item[]) => {
    if (s?.kind === 'data') into.push(...listItems(s, d.classes));
  };
  external(d.validation, validation);
  external(d.test, test);
  return { train, validation, test };
}

export const describeItem = (it: Item): string => (it.kind === 'file' ? it.path : `${it.images.file}[${it.index}]`);
