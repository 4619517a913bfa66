import { tf } from '../tf.js';
import { TidyAdam } from './adam.js';
import type { PlanStage } from '../../../contracts/plan.js';
import type { ModelInfo } from '../../../zoo/catalog.js';

type NamedTensor = { name: string; tensor: tf.Tensor };

// What a stage's optimizer does: which one (the plan names it), the rate at each batch (the
// schedule), and, for `lr LOW..HIGH`, a rate per trained block. The torch engine has the same
// formulas (python/tlr_torch/stage.py: learning_rate).

/** one-cycle starts and ends at these fractions of its peak (fastai's div 25; a 1e4-fold fall). */
export const ONE_CYCLE_START = 1 / 25,
  ONE_CYCLE_END = 1e-4;
/** one-cycle rises over this fraction of the stage when the recipe gives no `warmup`. */
export const ONE_CYCLE_RISE = 0.25;

/** The epoch's factor of the per-epoch schedules: constant, cosine to 0, or step. */
function epochFactor(stage: PlanStage, epoch: number): number {
  const s = stage.lr.schedule;
  if (s.kind === 'cosine') return (1 + Math.cos((Math.PI * epoch) / stage.epochs)) / 2;
  if (s.kind === 'step') return s.factor ** Math.floor(epoch / s.every);
  return 1;
}

/** one-cycle at step `t` of `total`, rising over `rise` steps: a half cosine up, then a half cosine down. */
function oneCycle(t: number, total: number, rise: number): number {
  if (t < rise) return ONE_CYCLE_START + ((1 - ONE_CYCLE_START) * (1 - Math.cos((Math.PI * t) / rise))) / 2;
  const p = (t - rise) / Math.max(1, total - 1 - rise);
  return ONE_CYCLE_END + ((1 - ONE_CYCLE_END) * (1 + Math.cos(Math.PI * Math.min(1, p)))) / 2;
}

/** The stage's (the head's) learning rate at batch `batch` (0-based) of `batches` in `epoch` (0-based). */
export function learningRate(stage: PlanStage, epoch: number, batch = 0, batches = 1): number {
  const s = stage.lr.schedule,
    initial = stage.lr.initial;
  const t = epoch * batches + batch,
    total = stage.epochs * batches;
  const warm = s.warmup !== undefined ? Math.max(1, Math.round(s.warmup * batches)) : 0;
  if (s.kind === 'one-cycle')
    return initial * oneCycle(t, total, warm || Math.max(1, Math.round(ONE_CYCLE_RISE * total)));
  const ramp = warm && t < warm ? (t + 1) / warm : 1;
  return initial * ramp * epochFactor(stage, epoch);
}

/** The optimizer a plan names (sgd has momentum 0.9; adam is TensorFlow.js' Adam updating a variable at a time). */
export function makeOptimizer(name: string, lr: number): tf.Optimizer {
  if (name === 'sgd') return tf.train.momentum(lr, 0.9);
  if (name === 'rmsprop') return tf.train.rmsprop(lr);
  return new TidyAdam(lr);
}

/** Changes an optimizer's learning rate in place (its state is kept); BlockRates sets each group's. */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as tf.Optimizer & { setLearningRate?: (v: number) => void; learningRate: number };
  if (o.setLearningRate) o.setLearningRate(lr);
  else o.learningRate = lr;
}

interface Group {
  readonly scale: number;
  readonly names: ReadonlySet<string>;
  readonly opt: tf.Optimizer;
}

/**
 * `lr LOW..HIGH`: one optimizer of the plan's kind per rate, each updating its own variables. Adam,
 * momentum and RMSprop keep their state per variable, so this is the same update as one optimizer
 * with a rate per variable. The rate set is the head's; each group runs at its fraction of it.
 */
export class BlockRates extends tf.Optimizer {
  // tf.Optimizer's own instanceof test is duck-typed (any optimizer would pass): this class's is real.
  static [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && Object.prototype.isPrototypeOf.call(BlockRates.prototype, x);
  }

  constructor(
    private readonly groups: readonly Group[],
    private readonly kind: string,
  ) {
    super();
  }

  setLearningRate(lr: number): void {
    for (const g of this.groups) setLearningRate(g.opt, lr * g.scale);
  }

  applyGradients(grads: tf.NamedTensorMap | NamedTensor[]): void {
    const list = Array.isArray(grads) ? grads : Object.entries(grads).map(([name, tensor]) => ({ name, tensor }));
    for (const g of this.groups) {
      const mine = list.filter((n) => g.names.has(n.name));
      if (mine.length) g.opt.applyGradients(mine);
    }
  }

  /** Each group's state, prefixed `gN/`, each group's step count first (as its optimizer expects). */
  async getWeights(): Promise<NamedTensor[]> {
    const all: NamedTensor[] = [];
    for (const [i, g] of this.groups.entries())
      all.push(...(await g.opt.getWeights()).map((n) => ({ name: `g${i}/${n.name}`, tensor: n.tensor })));
    return all;
  }

  async setWeights(values: NamedTensor[]): Promise<void> {
    for (const [i, g] of this.groups.entries()) {
      const prefix = `g${i}/`;
      await g.opt.setWeights(
        values
          .filter((n) => n.name.startsWith(prefix))
          .map((n) => ({ name: n.name.slice(prefix.length), tensor: n.tensor })),
      );
    }
  }

  getConfig(): tf.serialization.ConfigDict {
    return { kind: this.kind, scales: this.groups.map((g) => g.scale) };
  }

  getClassName(): string {
    return `BlockRates(${this.kind})`;
  }

  dispose(): void {
    for (const g of this.groups) g.opt.dispose();
    super.dispose();
  }
}

/** Every layer inside `model`, nested models opened (the head is a model inside the joined one). */
export function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) =>
    'layers' in l && Array.isArray((l as tf.LayersModel).layers) ? leafLayers(l as tf.LayersModel) : [l],
  );
}

/**
 * The stage's optimizer for `model`'s trainable variables: one optimizer, or with `lr.blocks` one
 * per block rate. A backbone layer trains at the rate of the last block that starts at or before
 * it (catalog order); the head, and anything the catalog does not list, at the stage's rate.
 */
export function stageOptimizer(stage: PlanStage, model: tf.LayersModel, info: ModelInfo | null): tf.Optimizer {
  const blocks = stage.lr.blocks,
    lr = stage.lr.initial;
  if (!blocks || !info) return makeOptimizer(stage.optimizer, lr);
  const index = new Map(info.layers.map((l) => [l.name, l.index]));
  const scales = [...blocks.map((b) => b.lr / stage.lr.initial), 1];
  const names: Set<string>[] = scales.map(() => new Set());
  for (const layer of leafLayers(model)) {
    const at = index.get(layer.name.replace(/\.(pad|chw)$/, ''));
    let g = blocks.length;
    if (at !== undefined) for (const [k, b] of blocks.entries()) if (b.from <= at) g = k;
    for (const w of layer.trainableWeights) names[g]!.add((w.read() as tf.Variable).name);
  }
  const groups = scales.map((scale, g) => ({
    scale,
    names: names[g]!,
    opt: makeOptimizer(stage.optimizer, lr * scale),
  }));
  return new BlockRates(groups, stage.optimizer);
}
