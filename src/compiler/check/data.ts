import * as path from 'node:path';
import type { Location, Statement } from '../ast.js';
import { nearest } from './suggest.js';
import type { Ctx } from './context.js';
import type { Globals, StageStatements } from './statements.js';
import type { CheckedData, MultiLabelCounts, SplitSource } from './checked.js';

export type { CheckedData };
import type { ClassFolder, DataInfo } from '../../data/formats/index.js';
import { splitCount, type SplitCount, type SplitPercent } from '../../data/split-counts.js';
import { multiLabelCounts } from './multi-label.js';
import type { Span } from '../source.js';

/** A class's images per part: train/validation(/test). */
const perClass = (c: { train: number; validation: number; test: number }, test: boolean): string =>
  `${c.train}/${c.validation}${test ? `/${c.test}` : ''}`;

/** Probes a location; reports and returns null when it is missing or unreadable. */
function look(ctx: Ctx, loc: Location): DataInfo | null {
  if (loc.url) {
    ctx.report('TLR1301', loc.span, 'data must be on this machine, not at a URL', [
      'download it, then point to the folder',
    ]);
    return null;
  }
  const abs = ctx.resolve(loc.text);
  const r = ctx.probe(abs);
  if (r.ok) return r.info;
  const shown = ctx.show(abs);
  if (r.problem === 'missing') {
    const parent = path.dirname(abs);
    // Folder names are long and typed from memory: half the name may differ (strawbery → strawberries).
    const name = path.basename(abs);
    const near =
      ctx.opts.exists(parent) === 'dir'
        ? nearest(
            name,
            ctx.siblings(parent).filter((n) => ctx.opts.exists(path.join(parent, n)) === 'dir' || n.endsWith('.csv')),
            3,
            Math.max(2, Math.ceil(name.length / 2)),
          ).map((n) => `\`${ctx.show(path.join(parent, n))}\``)
        : [];
    ctx.report('TLR1301', loc.span, `data folder ${shown} does not exist`, [
      ...(near.length ? [`did you mean ${near.join(', ')}?`] : []),
      `paths are relative to the recipe's folder (${ctx.dir}); create ${shown} with one folder of images per class`,
    ]);
  } else if (r.problem === 'empty') {
    ctx.report('TLR1302', loc.span, `${shown} has no class folders`, r.hints);
  } else {
    ctx.report('TLR1309', loc.span, r.message.replace(abs, shown), [
      ...r.hints,
      'data is a folder of class folders, a folder with train/ val/ test/, a folder of MNIST-style IDX files, ' +
        'or a path,label .csv (path,labels for several labels an image)',
    ]);
  }
  return null;
}

function classesOk(ctx: Ctx, loc: Location, folders: readonly ClassFolder[], what: string): boolean {
  let ok = true;
  if (folders.length < 2) {
    ctx.report(
      'TLR1302',
      loc.span,
      `${what} has ${folders.length === 0 ? 'no classes' : `only one class (${folders[0]!.name})`}; a ` +
        `classifier needs at least 2`,
      ["add one folder per class, each holding that class's images"],
    );
    return false;
  }
  for (const f of folders) {
    if (f.images === 0) {
      ctx.report('TLR1303', loc.span, `class \`${f.name}\` has no images (${ctx.show(f.where)})`, [
        'add images (jpg, png, webp, gif, bmp, tiff) to it, or remove the folder',
      ]);
      ok = false;
    }
  }
  return ok;
}

function sameClasses(
  ctx: Ctx,
  loc: Location,
  classes: readonly string[],
  other: readonly ClassFolder[],
  what: string,
): boolean {
  const names = other.map((f) => f.name);
  const missing = classes.filter((c) => !names.includes(c)),
    extra = names.filter((c) => !classes.includes(c));
  if (!missing.length && !extra.length) return true;
  const parts = [
    missing.length ? `lacks ${missing.join(', ')}` : '',
    extra.length ? `has ${extra.join(', ')} that the training data lacks` : '',
  ].filter(Boolean);
  ctx.report('TLR1308', loc.span, `${what} ${parts.join(' and ')}`, [
    'every data set must have the same class folders as the training data',
  ]);
  return false;
}

/**
 * `split A/B[/C]`: whole parts adding up to 100, and no part that data the recipe already names
 * (a validation or test set, or the data's own folders) provides. Null when reported.
 */
function checkSplit(
  ctx: Ctx,
  g: Globals,
  given: { validation?: SplitSource; test?: SplitSource; byValidate: boolean; byTest: boolean },
): SplitPercent | null {
  if (!g.split)
    return given.validation ? { train: 100, validation: 0, test: 0 } : { train: 80, validation: 20, test: 0 };
  const parts = g.split.parts;
  const sum = parts.reduce((t, p) => t + p.value, 0);
  if (parts.length > 3) {
    ctx.report(
      'TLR1306',
      g.split.span,
      `split takes 2 or 3 parts (train/validation or train/validation/test), not ${parts.length}`,
      ['write `split 80/20` or `split 80/10/10`'],
    );
    return null;
  }
  if (sum !== 100) {
    ctx.report('TLR1306', g.split.span, `split adds up to ${sum}, not 100`, [
      parts.length === 2
        ? `write \`split ${parts[0]!.value}/${100 - parts[0]!.value}\``
        : 'make the parts add up to 100',
    ]);
    return null;
  }
  for (const p of parts) if (ctx.int(p, 'each part of split', 1, 99) === null) return null;
  if (given.validation) {
    const from = given.byValidate
      ? `\`validate on\` (line ${g.validate!.span.start.line})`
      : `the data's own validation folder`;
    ctx.report(
      'TLR1307',
      g.split.span,
      `split ${parts.map((p) => p.text).join('/')} sets a validation part aside, but ${from} already gives ` +
        `the validation data`,
      ['remove one of them'],
    );
    return null;
  }
  if (parts.length === 3 && given.test) {
    const from = given.byTest ? `\`test on\` (line ${g.test!.span.start.line})` : `the data's own test folder`;
    ctx.report(
      'TLR1307',
      g.split.parts[2]!.span,
      `split sets a test part aside, but ${from} already gives the test data`,
      [`write \`split ${parts[0]!.value + parts[2]!.value}/${parts[1]!.value}\`, or remove \`test on\``],
    );
    return null;
  }
  return { train: parts[0]!.value, validation: parts[1]!.value, test: parts[2]?.value ?? 0 };
}

/**
 * Every split a run will use has images: the counts the runtime will make (data/split.ts) are
 * checked here, so `split 50/50` of two images or one image per class is an error, not a run that
 * "finishes" on nothing. `made`: which splits are cut from the training data.
 */
function splitsHaveImages(
  ctx: Ctx,
  span: Span,
  folders: readonly ClassFolder[],
  p: SplitPercent,
  made: { validation: boolean; test: boolean },
): boolean {
  const counts = folders.map((f) => splitCount(f.images, p));
  const sum = (k: keyof SplitCount) => counts.reduce((t, c) => t + c[k], 0);
  const empty = (['train', 'validation', 'test'] as const).filter(
    (k) => (k === 'train' || made[k]) && (k !== 'test' || p.test > 0) && sum(k) === 0,
  );
  if (!empty.length) return true;
  const images = folders.reduce((t, f) => t + f.images, 0);
  ctx.report(
    'TLR1310',
    span,
    `split ${p.train}/${p.validation}${p.test ? `/${p.test}` : ''} of ${images} images leaves ` +
      `${empty.map((k) => `0 ${k === 'train' ? 'training' : k} images`).join(' and ')} (per class: ` +
      `${folders.map((f, i) => `${f.name} ${perClass(counts[i]!, !!p.test)}`).join(', ')})`,
    [
      images < 10
        ? 'add images: each class needs a few for training and at least one for validation'
        : 'give the empty part a larger share, or its own data with `validate on` / `test on`',
    ],
  );
  return false;
}

/** Fewer images than this of a class in the validation or test part: its recall there is a coarse measure. */
const HANDFUL = 5;

/**
 * The validation and test parts hold a handful of images of every class that the others have a handful of, or a
 * warning names the classes short of it (a class of 1 in 50 has 2 images in a 10% test part beside 100 of the others).
 * A part small for every class is a choice its user sees in the plan's counts; one class short beside the rest is the
 * trap.
 */
function fewToMeasure(
  ctx: Ctx,
  at: { validation: Span; test: Span },
  folders: readonly ClassFolder[],
  p: SplitPercent,
  given: { validation?: SplitSource; test?: SplitSource },
  multi: MultiLabelCounts | null,
): void {
  for (const part of ['validation', 'test'] as const) {
    const src = given[part];
    if (!src && (part === 'test' ? p.test : p.validation) === 0) continue;
    const own = src?.kind === 'data' ? (src.info.splits.train ?? src.info.splits[part]) : null;
    // Multi-label data: images with each label in the part, as the stratified split made it.
    const counts =
      multi?.counts[part] ??
      folders.map((f) => (own ? (own.find((x) => x.name === f.name)?.images ?? 0) : splitCount(f.images, p)[part]));
    const few = folders.flatMap((f, i) => (counts[i]! < HANDFUL ? [{ name: f.name, n: counts[i]! }] : []));
    if (!few.length || Math.max(...counts) < HANDFUL) continue;
    const kind = multi ? 'label' : 'class';
    const whose = few.length === 1 ? `that ${kind}'s` : 'their';
    const them = few.length === 1 ? `that ${kind}` : `those ${multi ? 'labels' : 'classes'}`;
    const step = Math.round(100 / Math.max(1, ...few.map((c) => c.n)));
    ctx.report(
      'TLR1311',
      at[part],
      `the ${part} part holds fewer than ${HANDFUL} images of ${few.map((c) => `${c.name} (${c.n})`).join(', ')}: ` +
        `one image more or less right moves ${whose} recall there by ${step}% or more`,
      [
        src
          ? `add images of ${them} to the ${part} data`
          : `give the ${part} part a larger share of the data, or add images of ${them}`,
      ],
    );
  }
}

/** The data sets of a recipe: found, readable, with matching classes and a split that adds up. */
export function checkData(ctx: Ctx, g: Globals, stages: readonly StageStatements[]): CheckedData | null {
  const first = stages[0]?.train;
  if (!first) return null;
  if (!first.data) {
    ctx.report('TLR1304', first.span, 'the first `train` does not say which data to train on', [
      `write \`train ${first.epochs ? `${first.epochs.text} epochs ` : ''}on ./images\`, where ./images holds ` +
        `one folder per class`,
    ]);
    return null;
  }
  for (const st of stages.slice(1)) {
    const d = st.train?.data;
    if (d && ctx.resolve(d.text) !== ctx.resolve(first.data.text)) {
      ctx.report('TLR1305', d.span, 'every stage trains on the data of the first `train`', [
        `remove \`on ${d.text}\`; to train on other data, write another recipe that starts from this one's model`,
      ]);
    }
  }
  const train = look(ctx, first.data);
  if (!train) return null;
  const folders = train.splits.train;
  if (!folders) {
    ctx.report('TLR1309', first.data.span, `${ctx.show(train.path)} has no training split`, [
      'a folder with val/ or test/ also needs train/',
    ]);
    return null;
  }
  let ok = classesOk(ctx, first.data, folders, ctx.show(train.path));
  const classes = folders.map((f) => f.name);

  const external = (
    s: Extract<Statement, { kind: 'validate' | 'test' }> | undefined,
    what: string,
  ): SplitSource | null | undefined => {
    if (!s) return undefined;
    const info = look(ctx, s.data);
    if (!info) return null;
    const fs = info.splits.train ?? info.splits[s.kind === 'validate' ? 'validation' : 'test'];
    if (!fs) return null;
    ok = classesOk(ctx, s.data, fs, what) && ok;
    ok = sameClasses(ctx, s.data, classes, fs, `${what} ${ctx.show(info.path)}`) && ok;
    return { kind: 'data', info };
  };
  const inner = (split: 'validation' | 'test'): SplitSource | undefined => {
    const fs = train.splits[split];
    if (!fs) return undefined;
    ok = classesOk(ctx, first.data!, fs, `the ${split} folder of ${ctx.show(train.path)}`) && ok;
    ok = sameClasses(ctx, first.data!, classes, fs, `the ${split} folder of ${ctx.show(train.path)}`) && ok;
    return { kind: 'data', info: { ...train, splits: { [split]: fs } } };
  };

  const extVal = external(g.validate, 'the validation data');
  const extTest = external(g.test, 'the test data');
  if (extVal === null || extTest === null) return null;
  const dataVal = extVal ?? inner('validation');
  const dataTest = extTest ?? inner('test');

  const split = checkSplit(ctx, g, { validation: dataVal, test: dataTest, byValidate: !!extVal, byTest: !!extTest });
  if (!split) return null;
  if (
    !ok ||
    // Multi-label data is split by stratification, which says what a rare label leaves (multi-label.ts).
    (!train.labelSets &&
      !splitsHaveImages(ctx, g.split?.span ?? first.data.span, folders, split, {
        validation: !dataVal,
        test: !dataTest,
      }))
  )
    return null;
  return measured(ctx, g, first.data, train, split, { validation: dataVal, test: dataTest });
}

/** Checked data, once its parts are known: multi-label counts per part, or a warning for a class short of images. */
function measured(
  ctx: Ctx,
  g: Globals,
  loc: Location,
  train: DataInfo,
  split: SplitPercent,
  given: { validation: SplitSource | undefined; test: SplitSource | undefined },
): CheckedData | null {
  const seed = g.seed && Number.isInteger(g.seed.value.value) ? g.seed.value.value : 42;
  const multi = train.labelSets ? multiLabelCounts(ctx, loc, train, split, seed, given) : null;
  if (train.labelSets && !multi) return null;
  const folders = train.splits.train!;
  const span = (s: Statement | undefined) => s?.span ?? g.split?.span ?? loc.span;
  fewToMeasure(ctx, { validation: span(g.validate), test: span(g.test) }, folders, split, given, multi);
  return {
    multi,
    train,
    classes: folders.map((f) => f.name),
    validation: given.validation ?? { kind: 'split', percent: split.validation },
    test: given.test ?? (split.test > 0 ? { kind: 'split', percent: split.test } : null),
    split,
  };
}
