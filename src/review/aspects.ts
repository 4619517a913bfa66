import * as path from 'node:path';
import { displayPath } from '../paths.js';
import { partImages, taskOf, type Plan, type PlanStage } from '../contracts/plan.js';
import {
  augmentText,
  batchnormText,
  blockRatesText,
  cacheText,
  fmtInt,
  headText,
  keepsText,
  LAYOUTS,
  plural,
  sourceText,
  stageBlocks,
  stageRateText,
  startText,
  weightsText,
} from './phrases.js';

// What a reviewer compares between two plans: each aspect is one row of the table, read from a
// plan as text. `tlr diff` shows the aspects whose text differs. A test changes every field of a
// plan in turn and checks that some aspect sees it, so a new plan field cannot slip past review.

export type Section = 'recipe' | 'model' | 'data' | 'head' | 'freezing' | 'training' | 'save';

export interface Aspect {
  readonly section: Section;
  readonly label: string;
  /** The aspect as text; `dir` is the recipe's folder (paths are shown relative to it). */
  read(p: Plan, dir: string): string;
}

const a = (section: Section, label: string, read: Aspect['read']): Aspect => ({ section, label, read });
const rel = (dir: string, p: string) => displayPath(dir, p);
/** A long list of blocks as its ends: `stem … block11 (13 blocks)`. */
const span = (names: readonly string[]) =>
  names.length > 4 ? `${names[0]} … ${names[names.length - 1]} (${names.length} blocks)` : names.join(', ');
const total = (n: number | null) => (n === null ? '-' : fmtInt(n));

/** Aspects of the plan as a whole. */
export const PLAN_ASPECTS: readonly Aspect[] = [
  a('recipe', 'name', (p) => p.recipe.name),
  a('recipe', 'seed', (p) => String(p.seed)),
  a('model', 'network', (p) => `${p.model.name}${p.model.width !== null ? ` width ${p.model.width}` : ''}`),
  a('model', 'input', (p) => `${p.model.inputSize}×${p.model.inputSize}`),
  a('model', 'weights', (p) => {
    const w = p.model.weights;
    return w.kind === 'imagenet'
      ? `${weightsText(p)}; cached as ${w.localName}, ${w.includesTop ? 'with' : 'without'} its ImageNet classifier`
      : weightsText(p);
  }),
  a(
    'model',
    'preprocessing',
    (p) =>
      `${p.model.preprocessing.description} (mean ${p.model.preprocessing.mean.join(', ')}, std ` +
      `${p.model.preprocessing.std.join(', ')})`,
  ),
  a(
    'model',
    'backbone',
    (p) =>
      `${plural(p.model.layers, 'layer')}, ${fmtInt(p.model.params)} parameters; features from ` +
      `${p.model.featureLayer} (${p.model.featureSize})`,
  ),
  a('model', 'cached features', (p) => {
    const f = p.features;
    if (!f) return 'float';
    const c = f.calibration;
    return `int8 (calibrated on ${c.images} ${c.part}ing images, ${c.method} ${c.percentile}%)`;
  }),
  a('model', 'blocks', (p) =>
    p.model.blocks
      .map((b) => `${b.name} ${b.firstLayer}..${b.lastLayer} (${b.layers}, ${fmtInt(b.params)})`)
      .join(', '),
  ),
  a('data', 'folder', (p, dir) => `${rel(dir, p.data.root)} (${LAYOUTS[p.data.format]})`),
  a('data', 'classes', (p) => p.data.classes.join(', ')),
  a('data', 'task', (p) => (taskOf(p) === 'multi-label' ? 'multi-label: any set of labels per image' : 'single-label')),
  // The aspect names the part; its value is where the images come from.
  a('data', 'validation', (p, dir) => sourceText(dir, p.data.validation)),
  a('data', 'test', (p, dir) => sourceText(dir, p.data.test)),
  a('data', 'training source', (p, dir) => {
    const t = p.data.train;
    return t.kind === 'split' ? `${t.percent}%` : `${rel(dir, t.path)} (${t.format}, its ${t.part} part)`;
  }),
  a('data', 'split', (p) => `${p.data.split.train}/${p.data.split.validation}/${p.data.split.test}`),
  a(
    'data',
    'images',
    (p) =>
      `train ${total(partImages(p.data, 'train'))} · validation ${total(partImages(p.data, 'validation'))} · test ` +
      `${total(partImages(p.data, 'test'))}`,
  ),
  a(
    'data',
    'images per class',
    (p) =>
      `${p.data.classes
        .map(
          (c, i) => `${c} ${p.data.counts.train[i]}/${p.data.counts.validation[i]}/${p.data.counts.test?.[i] ?? '-'}`,
        )
        .join(', ')}`,
  ),
  a('data', 'augment', (p) => augmentText(p.data.augment)),
  a('head', 'layers', (p) => `${headText(p)} (${fmtInt(p.head.inputs)} inputs)`),
  a('head', 'parameters', (p) => fmtInt(p.head.params)),
  a('save', 'keeps', (p) => keepsText(p)),
  a('save', 'copied to', (p, dir) => (p.save.to ? rel(dir, p.save.to) : 'nowhere (the run folder only)')),
  a('save', 'exports', (p) =>
    p.save.exports?.length
      ? p.save.exports.map((x) => `${x.format}${x.softmax ? ' with softmax' : ''}`).join(', ')
      : 'none',
  ),
  a('save', 'runs folder', (p, dir) => rel(dir, p.output.runsDir)),
];

/** Aspects of one stage, read from the stage with the same index (a missing stage reads as absent). */
export const STAGE_ASPECTS: readonly {
  readonly section: Section;
  readonly label: string;
  read(p: Plan, s: PlanStage): string;
}[] = [
  { section: 'freezing', label: 'frozen', read: (p, s) => span(stageBlocks(p, s).frozen) || 'nothing' },
  {
    section: 'freezing',
    label: 'frozen layers',
    read: (_p, s) =>
      `${plural(s.frozen.layers, 'layer')}${s.frozen.through ? ` through ${s.frozen.through}` : ''} (${s.frozen.by})` +
      `${s.trainable.from ? `; trains from ${s.trainable.from}` : ''}`,
  },
  { section: 'freezing', label: 'trainable', read: (p, s) => span(stageBlocks(p, s).trainable) },
  {
    section: 'freezing',
    label: 'trainable parameters',
    read: (_p, s) =>
      `${fmtInt(s.trainable.backboneParams + s.trainable.headParams)} (backbone ` +
      `${fmtInt(s.trainable.backboneParams)}, head ${fmtInt(s.trainable.headParams)})`,
  },
  { section: 'freezing', label: 'frozen parameters', read: (_p, s) => fmtInt(s.frozen.params) },
  { section: 'training', label: 'epochs', read: (_p, s) => String(s.epochs) },
  { section: 'training', label: 'batch', read: (_p, s) => String(s.batch) },
  { section: 'training', label: 'optimizer', read: (_p, s) => s.optimizer },
  { section: 'training', label: 'lr', read: (_p, s) => stageRateText(s) },
  { section: 'training', label: 'rates per block', read: (_p, s) => blockRatesText(s) ?? 'one rate for every layer' },
  {
    section: 'training',
    label: 'batchnorm',
    read: (_p, s) =>
      s.trainable.backboneParams > 0
        ? batchnormText(s)
        : `no BatchNorm layer trains${s.batchnorm ? ` (${s.batchnorm} batchnorm statistics)` : ''}`,
  },
  {
    section: 'training',
    label: 'early stop',
    read: (_p, s) => (s.earlyStop ? `on ${s.earlyStop.metric}, patience ${s.earlyStop.patience}` : 'none'),
  },
  { section: 'training', label: 'class weights', read: (_p, s) => s.classWeights },
  {
    section: 'training',
    label: 'sampling',
    read: (_p, s) =>
      s.sampler === 'balanced' ? 'balanced (each class drawn equally often)' : (s.sampler ?? 'shuffle'),
  },
  { section: 'training', label: 'starts from', read: (_p, s) => startText(s).replace(/^starts from /, '') },
  {
    section: 'training',
    label: 'features',
    read: (_p, s) =>
      `${cacheText(s.featureCache)}${s.featureCache.prefix ? ` through ${s.featureCache.prefix.through}` : ''}`,
  },
  // Shown only when the caching itself stayed (diff.ts): a new reason beside a new kind says it twice.
  { section: 'training', label: 'features, why', read: (_p, s) => s.featureCache.reason },
];

/** The recipe's folder: where the plan's relative paths are shown from. */
export const planDir = (p: Plan): string => path.dirname(p.recipe.file);
