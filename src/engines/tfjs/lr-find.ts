import { tf } from './tf.js';
import type { Plan } from '../../contracts/plan.js';
import { chooseBackend } from './backend.js';
import type { Events } from '../../runtime/events.js';
import { prepareRun } from './stages/context.js';
import { prepareStage, release, sweepStage } from './stages/stage.js';
import type { LrCurve } from './train/range-test.js';
import { TlrError } from '../../errors.js';

// `tlr lr-find`: the range test on one stage of a plan, with the stage's own sources (cached
// features when the stage uses them, so it takes seconds) and the recipe's starting weights.

export type { LrCurve };

export interface LrFindOptions {
  readonly plan: Plan;
  /** 0-based stage index. */
  readonly stage: number;
  readonly events: Events;
  readonly env?: NodeJS.ProcessEnv;
  readonly backend?: string;
  readonly steps?: number;
  readonly onStep?: (step: number, steps: number, lr: number, loss: number) => void;
}

/** Runs the learning-rate range test on a stage of `plan`. */
export async function lrFind(o: LrFindOptions): Promise<LrCurve> {
  const { plan } = o;
  if (o.stage < 0 || o.stage >= plan.stages.length)
    throw new TlrError(
      `the recipe has ${plan.stages.length} stage${plan.stages.length > 1 ? 's' : ''}; --stage takes ` +
        `1${plan.stages.length > 1 ? ` to ${plan.stages.length}` : ''}`,
    );
  const backend = await chooseBackend(o.backend);
  const ctx = await prepareRun(plan, { events: o.events, env: o.env ?? process.env, stopped: () => false, backend });
  try {
    const p = await prepareStage(ctx, o.stage, tf.getBackend());
    try {
      return await sweepStage(ctx, o.stage, p, { seed: plan.seed, steps: o.steps, onStep: o.onStep });
    } finally {
      release(ctx, p);
    }
  } finally {
    await ctx.engines.close();
    ctx.net.full.dispose();
  }
}
