import * as path from 'node:path';
import { splitCount } from '../data/split-counts.js';
import type { DataInfo } from '../data/formats/index.js';
import {
  PLAN_FORMAT,
  PLAN_VERSION,
  tieBreakOf,
  INT8_CALIBRATION,
  type Plan,
  type PlanBlockRate,
  type PlanSplitSource,
  type PlanStage,
} from '../contracts/plan.js';
import type { Checked, SplitSource, StageSpec } from './check/checked.js';
import { splitBoundary } from '../zoo/cut.js';
import { graphOf } from '../zoo/catalog.js';
import { headParams } from '../zoo/head-layers.js';
import { fileSafeName } from '../escape.js';

// Checked recipe to plan. Pure: everything it needs was resolved by the checker.

export { headParams };

const partOf = (info: DataInfo): 'train' | 'validation' | 'test' =>
  info.splits.train ? 'train' : info.splits.validation ? 'validation' : 'test';

function source(s: SplitSource): PlanSplitSource {
  return s.kind === 'split'
    ? { kind: 'split', percent: s.percent }
    : { kind: 'data', path: s.info.path, format: s.info.format, part: partOf(s.info) };
}

/** Images per class of a data set's own part, in the order of `classes`. */
function countsOf(info: DataInfo, classes: readonly string[]): number[] {
  const folders = info.splits[partOf(info)]!;
  return classes.map((c) => folders.find((f) => f.name === c)?.images ?? 0);
}

/** Training and validation images of the recipe's data, as the plan counts them. */
function imagesSeen(c: Checked): number {
  const total = c.data.train.splits.train?.reduce((t, f) => t + f.images, 0) ?? 0;
  const val =
    c.data.validation.kind === 'data'
      ? (c.data.validation.info.splits.train ?? c.data.validation.info.splits.validation ?? []).reduce(
          (t, f) => t + f.images,
          0,
        )
      : 0;
  return Math.round(total * (1 - (c.data.split.test ?? 0) / 100)) + val;
}

function featureCache(c: Checked, s: StageSpec): PlanStage['featureCache'] {
  const all = c.model.layers.length;
  if (s.frozen < all) {
    const from = c.model.layers[s.frozen]!.name;
    if (s.frozen === 0 || c.augment.length)
      return {
        use: false,
        reason:
          `layers from ${from} on train in this stage, so the backbone runs every ` +
          `batch${s.frozen && c.augment.length ? ' (augment is on, so its frozen part runs every epoch too)' : ''}`,
      };
    // The runtime caches the frozen part's output (engines/tfjs/stages/stage.ts) when the network has one
    // place to cut; the plan says so, and how much that is.
    const last = splitBoundary(
      graphOf(c.model.name, c.model.width, c.model.inputSize),
      c.model.featureLayer,
      c.model.layers,
      s.frozen,
    );
    if (!last)
      return {
        use: false,
        reason:
          `layers from ${from} on train in this stage, and frozen layers feed them in more than one ` +
          `place, so the whole backbone runs every batch`,
      };
    const perImage = last.shape.reduce((a, b) => a * b, 1) * 4;
    const images = imagesSeen(c);
    return {
      use: false,
      prefix: { through: last.name, bytesPerImage: perImage },
      reason:
        `layers from ${from} on train in this stage; nothing is augmented, so the frozen part (through ` +
        `${last.name}) runs once per image and its output is cached on disk (${Math.ceil(perImage / 1024)} KB ` +
        `an image, about ${Math.ceil((perImage * images) / 1024 ** 2)} MB for ${images} training and validation ` +
        `images), and every epoch trains on it`,
    };
  }
  if (c.augment.length) {
    return {
      use: false,
      reason: 'augment is on: every epoch sees new versions of the images, so features cannot be reused',
    };
  }
  return {
    use: true,
    reason:
      'the backbone is frozen and nothing is augmented: its features are computed once, cached on disk, and the ' +
      'head trains on them',
  };
}

/**
 * `lr LOW..HIGH`: the backbone blocks this stage trains (those with weights), lowest first, each
 * a rate evenly spaced in log scale from LOW up to HIGH, which the head gets (fastai's discriminative
 * rates spread the same way); three significant digits.
 */
export function blockRates(model: Checked['model'], frozen: number, low: number, high: number): PlanBlockRate[] {
  const trained = model.blocks
    .filter((b) => b.last >= frozen)
    .map((b) => ({
      block: b.name,
      from: Math.max(b.first, frozen),
      params: model.layers.slice(Math.max(b.first, frozen), b.last + 1).reduce((t, l) => t + l.params, 0),
    }))
    .filter((b) => b.params > 0);
  const steps = trained.length;
  return trained.map((b, k) => ({
    block: b.block,
    from: b.from,
    lr: +(low * (high / low) ** (k / steps)).toPrecision(3),
  }));
}

function stage(c: Checked, s: StageSpec, i: number, headTotal: number): PlanStage {
  const layers = c.model.layers;
  const frozenParams = layers.slice(0, s.frozen).reduce((t, l) => t + l.params, 0);
  return {
    index: i + 1,
    epochs: s.epochs,
    batch: s.batch,
    optimizer: s.optimizer as PlanStage['optimizer'],
    lr: {
      initial: s.lr,
      schedule: s.schedule,
      ...(s.lrAuto ? { auto: true as const } : {}),
      ...(s.lrLow !== null ? { blocks: blockRates(c.model, s.frozen, s.lrLow, s.lr) } : {}),
    },
    batchnorm: s.batchnorm,
    earlyStop: s.earlyStop,
    classWeights: s.classWeights,
    sampler: s.sampler,
    frozen: {
      layers: s.frozen,
      through: s.frozen ? layers[s.frozen - 1]!.name : null,
      by: s.frozenBy,
      params: frozenParams,
    },
    trainable: {
      from: layers[s.frozen]?.name ?? null,
      backboneParams: c.model.backboneParams - frozenParams,
      headParams: headTotal,
    },
    featureCache: featureCache(c, s),
    startFrom: i === 0 ? 'weights' : 'previous-best',
  };
}

/** A checked recipe as a plan: every default filled in, counts and paths resolved. Pure. */
export function toPlan(c: Checked): Plan {
  const m = c.model;
  const head = headParams(m.featureSize, c.head);
  const d = c.data;
  const own = countsOf(d.train, d.classes);
  const shares = own.map((n) => splitCount(n, d.split));
  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    recipe: { name: c.name, file: c.file },
    seed: c.seed,
    model: {
      name: m.name,
      width: m.width,
      inputSize: m.inputSize,
      preprocessing: {
        mean: [...m.preprocessing.mean],
        std: [...m.preprocessing.std],
        description: m.preprocessing.description,
      },
      featureLayer: m.featureLayer,
      featureSize: m.featureSize,
      layers: m.layers.length,
      params: m.backboneParams,
      blocks: m.blocks.map((b) => ({
        name: b.name,
        firstLayer: m.layers[b.first]!.name,
        lastLayer: m.layers[b.last]!.name,
        layers: b.last - b.first + 1,
        params: b.params,
      })),
      weights: c.weights,
    },
    head: { inputs: m.featureSize, layers: c.head.map((l) => ({ ...l })), params: head },
    data: {
      root: d.train.path,
      format: d.train.format,
      classes: [...d.classes],
      train: { kind: 'data', path: d.train.path, format: d.train.format, part: 'train' },
      validation: source(d.validation),
      test: d.test ? source(d.test) : null,
      split: { ...d.split },
      counts: d.multi
        ? { ...d.multi.counts }
        : {
            train: shares.map((s) => s.train),
            validation:
              d.validation.kind === 'split' ? shares.map((s) => s.validation) : countsOf(d.validation.info, d.classes),
            test: !d.test
              ? null
              : d.test.kind === 'split'
                ? shares.map((s) => s.test)
                : countsOf(d.test.info, d.classes),
          },
      augment: c.augment.map((a) => ({ ...a })),
      ...(d.multi ? { images: { ...d.multi.images } } : {}),
    },
    ...(c.task === 'multi-label' ? { task: c.task } : {}),
    ...(c.features === 'int8' ? { features: { precision: 'int8', calibration: { ...INT8_CALIBRATION } } } : {}),
    stages: c.stages.map((s, i) => stage(c, s, i, head)),
    save: {
      metric: c.save.metric,
      mode: c.save.metric.endsWith('loss') ? 'min' : 'max',
      which: c.save.which,
      to: c.save.to,
      ...(c.exports.length ? { exports: c.exports } : {}),
      tieBreak: tieBreakOf(c.save.metric),
    },
    output: { runsDir: path.join(path.dirname(c.file), 'runs', fileSafeName(c.name)) },
  };
}
