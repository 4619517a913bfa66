import { tf } from '../tf.js';
import type { PlanStage } from '../../../contracts/plan.js';
import type { BatchSource } from './batch-sources.js';
import { batchLoss } from './loop.js';
import type { MultiLabel } from './loss.js';
import { makeOptimizer, setLearningRate } from './optimizer.js';

// The learning-rate range test (Smith 2015; fastai's lr_find): train on a stage's batches with
// the learning rate growing exponentially from `from` to `to`, smooth the loss, and stop when it
// explodes. The weights (and BatchNorm statistics) are put back afterwards.

export type { LrCurve } from '../../types.js';
import type { LrCurve } from '../../types.js';

export interface SweepOptions {
  readonly model: tf.LayersModel;
  readonly train: BatchSource;
  readonly stage: PlanStage;
  readonly classes: number;
  readonly probabilities: boolean;
  readonly classWeights: Float32Array | null;
  /** Multi-label targets; null: one label per image. */
  readonly multi?: MultiLabel | null;
  readonly seed: number;
  readonly steps?: number;
  readonly from?: number;
  readonly to?: number;
  readonly onStep?: (step: number, steps: number, lr: number, loss: number) => void;
}

/** A centred moving average (no lag, unlike the running average), `half` steps each side. */
export function centred(xs: readonly number[], half = 4): number[] {
  return xs.map((_, i) => {
    const w = xs.slice(Math.max(0, i - half), i + half + 1);
    return w.reduce((a, b) => a + b, 0) / w.length;
  });
}

/**
 * What the curve suggests: a tenth of the rate at the lowest smoothed loss (fastai's classic rule), and the steepest
 * point.
 */
export function suggest(
  lrs: readonly number[],
  smoothed: readonly number[],
): Pick<LrCurve, 'suggestion' | 'rule' | 'minimum' | 'steepest'> {
  let min = 0;
  smoothed.forEach((v, i) => {
    if (v < smoothed[min]!) min = i;
  });
  // The first few steps move little and their average is still settling.
  const skip = Math.min(Math.floor(smoothed.length / 10), Math.max(0, min - 1));
  let steep = skip,
    slope = Infinity;
  for (let i = skip + 1; i <= min; i++) {
    const s = (smoothed[i]! - smoothed[i - 1]!) / (Math.log10(lrs[i]!) - Math.log10(lrs[i - 1]!));
    if (s < slope) {
      slope = s;
      steep = i;
    }
  }
  const minimum = lrs[min]!;
  return {
    minimum,
    steepest: lrs[steep]!,
    suggestion: minimum / 10,
    rule: 'a tenth of the rate where the smoothed loss is lowest',
  };
}

/** Runs the range test on `train`; the model's weights are restored before it returns. */
export async function lrSweep(o: SweepOptions): Promise<LrCurve> {
  const steps = o.steps ?? 100,
    from = o.from ?? 1e-7,
    to = o.to ?? 10;
  const saved = o.model.getWeights().map((w) => w.clone());
  const opt = makeOptimizer(o.stage.optimizer, from);
  const vars = o.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const weights = o.classWeights ? tf.tensor1d(o.classWeights) : null;
  const lrs: number[] = [],
    losses: number[] = [],
    smoothed: number[] = [];
  let avg = 0,
    best = Infinity,
    diverged = false;
  try {
    for (let pass = 0, before = -1; lrs.length < steps && !diverged && lrs.length > before; pass++) {
      before = lrs.length; // a pass that yields no batch ends the sweep
      for await (const b of o.train.batches(o.stage.batch, true, o.seed * 7919 + pass)) {
        const lr = from * (to / from) ** (lrs.length / Math.max(1, steps - 1));
        setLearningRate(opt, lr);
        const y = tf.tensor1d(b.y, 'int32');
        const loss = opt.minimize(
          () =>
            batchLoss(
              o.model.apply(b.x, { training: true }) as tf.Tensor,
              y,
              o.classes,
              weights,
              o.probabilities,
              o.multi ?? null,
            ),
          true,
          vars,
        )!;
        const v = (await loss.data())[0]!;
        tf.dispose([loss, y, b.x]);
        lrs.push(lr);
        losses.push(v);
        // The running average only decides when to stop; the curve is smoothed without lag below.
        avg = 0.9 * avg + 0.1 * v;
        const s = avg / (1 - 0.9 ** lrs.length);
        o.onStep?.(lrs.length, steps, lr, v);
        best = Math.min(best, s);
        if (!Number.isFinite(v) || s > 4 * best) {
          diverged = true;
          break;
        }
        if (lrs.length >= steps) break;
      }
    }
  } finally {
    o.model.setWeights(saved);
    tf.dispose(saved);
    opt.dispose();
    weights?.dispose();
  }
  const finiteLosses = losses.findIndex((v) => !Number.isFinite(v));
  smoothed.push(...centred(finiteLosses < 0 ? losses : losses.slice(0, finiteLosses)));
  const finite = smoothed.length;
  if (finite < 5)
    throw new Error(
      `the learning-rate sweep ran only ${finite} finite steps; the stage has too few batches or ` +
        `its loss is not finite`,
    );
  return { lrs, losses, smoothed, diverged, ...suggest(lrs.slice(0, finite), smoothed.slice(0, finite)) };
}
