import { describe, networkKindOf, type NetworkKind } from '../zoo/catalog.js';
import { partImages, type Plan, type PlanStage } from '../contracts/plan.js';
import { reusableKey } from './cache-key.js';

// How much arithmetic a plan asks for, from the zoo's graphs: multiply-accumulates (MACs) per
// image for the frozen part, the trained part and the head, then per stage and for the whole run.
// One MAC is one operation, as torchvision's "GFLOPS" column counts it (ResNet-50: 4.09).
// A backward pass costs about twice its forward (gradients for inputs and for weights), and only
// the trained part and the head have one. What a cache saves is counted once, at the stage's start.

export interface PerImage {
  readonly frozen: number;
  readonly trained: number;
  readonly head: number;
}

export interface StageCompute {
  readonly index: number;
  readonly epochs: number;
  readonly perImage: PerImage;
  /** `features`: the head trains on cached backbone features; `prefix`: on the frozen part's cached output. */
  readonly cache: 'features' | 'prefix' | 'none';
  /** Filling the cache, once, when the stage starts (0 when nothing is cached or the cache is already there). */
  readonly once: number;
  /** An epoch's MACs: forward only (frozen layers, validation) and in training steps (forward and backward). */
  readonly perEpoch: number;
  readonly perEpochForward: number;
  readonly perEpochTraining: number;
  /**
   * Training batches an epoch, and the layers each batch trains (the backbone's above the frozen part, and the
   * head's).
   */
  readonly batches: number;
  readonly trainedLayers: number;
  /** `once` plus every epoch (early stopping can end a stage sooner). */
  readonly total: number;
}

export interface PlanCompute {
  /** The whole network, forward, per image: what `predict` costs. */
  readonly forward: number;
  readonly stages: readonly StageCompute[];
  /** Evaluating the test part at the end. */
  readonly test: number;
  readonly total: number;
}

/** Images over a part's classes (a part a plan does not have counts 0). */
export const sum = (xs: readonly number[] | null): number => (xs ?? []).reduce((a, b) => a + b, 0);

/** The head's MACs per image: each dense layer's inputs times its units. */
export function headMacs(plan: Plan): number {
  let width = plan.head.inputs,
    macs = 0;
  for (const l of plan.head.layers) {
    if (l.kind !== 'dense') continue;
    macs += width * l.units;
    width = l.units;
  }
  return macs;
}

/** Which calibration a plan's network takes: `depthwise` when it has depthwise convolutions (MobileNets). */
export const networkKind = (plan: Plan): NetworkKind =>
  networkKindOf(describe(plan.model.name, plan.model.width, plan.model.inputSize));

/** Forward MACs per image of the backbone's layers below and from a stage's freeze point. */
export function perImage(plan: Plan, stage: PlanStage): PerImage {
  const layers = describe(plan.model.name, plan.model.width, plan.model.inputSize).layers;
  const frozen = layers.slice(0, stage.frozen.layers).reduce((t, l) => t + l.macs, 0);
  const trained = layers.slice(stage.frozen.layers).reduce((t, l) => t + l.macs, 0);
  return { frozen, trained, head: headMacs(plan) };
}

function stageCompute(plan: Plan, stage: PlanStage): StageCompute {
  const p = perImage(plan, stage);
  const train = partImages(plan.data, 'train') ?? 0,
    val = partImages(plan.data, 'validation') ?? 0;
  const cache = stage.featureCache.use ? 'features' : stage.featureCache.prefix ? 'prefix' : 'none';
  // What runs below the trained layers each epoch (nothing when cached), and what trains.
  const fixed = cache === 'none' ? p.frozen : 0;
  const learned = (cache === 'features' ? 0 : p.trained) + p.head;
  const once =
    cache === 'features' ? (train + val) * (p.frozen + p.trained) : cache === 'prefix' ? (train + val) * p.frozen : 0;
  const perEpochForward = train * fixed + val * (fixed + learned);
  const perEpochTraining = train * 3 * learned;
  const perEpoch = perEpochForward + perEpochTraining;
  return {
    index: stage.index,
    epochs: stage.epochs,
    perImage: p,
    cache,
    once,
    perEpoch,
    perEpochForward,
    perEpochTraining,
    batches: Math.ceil(train / stage.batch),
    trainedLayers: (cache === 'features' ? 0 : plan.model.layers - stage.frozen.layers) + plan.head.layers.length,
    total: once + stage.epochs * perEpoch,
  };
}

/**
 * An engine's speed on a machine (src/cli/calibrate.ts measures it): MACs a second forward and
 * in training steps, the seconds every training batch and every layer it trains cost beyond their
 * arithmetic (reading, the optimizer, per-op overheads), and a run's start (loading the engine).
 */
export interface Rates {
  readonly forward: number;
  readonly training: number;
  readonly perBatch: number;
  /** Seconds each trained layer adds to a batch beyond its arithmetic (small layers are overhead-bound). */
  readonly perLayerBatch: number;
  readonly startup: number;
}

/** Seconds a stage takes at an engine's rates. */
export const stageSeconds = (s: StageCompute, r: Rates): number =>
  (s.once + s.epochs * s.perEpochForward) / r.forward +
  s.epochs * (s.perEpochTraining / r.training + s.batches * (r.perBatch + s.trainedLayers * r.perLayerBatch));

/** The arithmetic of a whole run, stage by stage. */
export function planCompute(plan: Plan): PlanCompute {
  const stages = plan.stages.map((s) => stageCompute(plan, s));
  const whole = stages[0] ? stages[0].perImage : { frozen: 0, trained: 0, head: headMacs(plan) };
  const forward = whole.frozen + whole.trained + whole.head;
  const test = (partImages(plan.data, 'test') ?? 0) * forward;
  return { forward, stages, test, total: stages.reduce((t, s) => t + s.total, 0) + test };
}

/**
 * Each plan's arithmetic in a sweep run one variant after another: a stage whose cache entries an earlier variant
 * made (or, `warm`, a run before the sweep made) does not make them again. What variants share is counted once.
 */
export function sweepComputes(plans: readonly Plan[], warm: boolean): PlanCompute[] {
  const made = new Set<string>();
  return plans.map((plan) => {
    const c = planCompute(plan);
    const stages = c.stages.map((s, i) => {
      const key = reusableKey(plan, plan.stages[i]!);
      if (key === null) return s;
      const had = warm || made.has(key);
      made.add(key);
      return had ? { ...s, once: 0, total: s.total - s.once } : s;
    });
    return { ...c, stages, total: stages.reduce((t, s) => t + s.total, 0) + c.test };
  });
}

/** Seconds a whole run takes at a calibration's rates (every epoch run). */
export const planSeconds = (c: PlanCompute, r: Rates): number =>
  r.startup + c.stages.reduce((t, s) => t + stageSeconds(s, r), 0) + c.test / r.forward;

/** MACs with an SI prefix: 1.81 G, 340 M. */
export function fmtMacs(n: number): string {
  const units: [number, string][] = [
    [1e15, 'P'],
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [v, u] of units) if (n >= v) return `${(n / v).toPrecision(3)} ${u}`;
  return `${Math.round(n)} `;
}
