import * as fs from 'node:fs';
import * as path from 'node:path';
import type { tf } from '../tf.js';
import { tieBreakOf, type Plan, type PlanStage } from '../../../contracts/plan.js';
import { metricValue, type EngineMetrics } from '../../../runtime/events.js';
import { saveModel } from '../model-files.js';
import { saveOptimizer } from '../optimizer-state.js';
import { appendLine, replaceDirAtomic } from '../../../files/atomic.js';
import type { RunContext } from './context.js';
import type { RunFolder } from '../../../runtime/run-folder.js';
import type { StageRun } from '../train/loop.js';

// What each epoch of a stage records: the best model (saved), metrics.jsonl, and the checkpoint with the stage's best.

/**
 * The files of `from` at `to` as hard links (a copy where links cannot be made): a saved model's
 * files are never written again once in place, and copying the stage's best weights every epoch
 * would cost as much disk time as saving them.
 */
function linkFolder(from: string, to: string): void {
  fs.mkdirSync(to);
  for (const f of fs.readdirSync(from)) {
    try {
      fs.linkSync(path.join(from, f), path.join(to, f));
    } catch {
      fs.copyFileSync(path.join(from, f), path.join(to, f));
    }
  }
}

/**
 * Writes the whole checkpoint as one unit: the weights, the optimizer's state, the stage's best
 * weights and state.json go into a fresh folder that replaces the old one in a rename, so a kill at
 * any moment leaves either the previous checkpoint or the new one, never a mix. `stageBest`: the
 * current weights are the stage's best ('now'), the previous checkpoint's are ('keep'), or none.
 */
export async function writeCheckpoint(
  ctx: RunContext,
  f: RunFolder,
  optimizer: tf.Optimizer | null,
  stageBest: 'now' | 'keep' | 'none',
): Promise<void> {
  const old = path.join(f.checkpoint, 'stage-best');
  await replaceDirAtomic(f.checkpoint, async (tmp) => {
    await saveModel(ctx.net.full, path.join(tmp, 'model'));
    if (optimizer) await saveOptimizer(optimizer, tmp);
    if (stageBest === 'now') await saveModel(ctx.net.full, path.join(tmp, 'stage-best'));
    else if (stageBest === 'keep' && fs.existsSync(old)) linkFolder(old, path.join(tmp, 'stage-best'));
    fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(f.state, null, 2));
  });
}

/**
 * Whether an epoch's metrics beat the best so far: better on the plan's metric, or equal on it and
 * better on its tie-break metric (the loss for an accuracy, the accuracy for a loss).
 */
export function beats(save: Plan['save'], m: EngineMetrics, best: { value: number; second?: number } | null): boolean {
  if (!best) return true;
  const v = metricValue(m, save.metric),
    tie = save.tieBreak ?? tieBreakOf(save.metric);
  if (v !== best.value) return save.mode === 'max' ? v > best.value : v < best.value;
  const w = metricValue(m, tie.metric);
  return typeof best.second === 'number' && (tie.mode === 'max' ? w > best.second : w < best.second);
}

/** After each epoch: the best model, metrics.jsonl, and the checkpoint (with the stage's best). */
export function epochRecorder(ctx: RunContext, f: RunFolder, s: number, stage: PlanStage): StageRun['onEpoch'] {
  const { plan, net, events } = ctx;
  const second = (m: EngineMetrics) => metricValue(m, (plan.save.tieBreak ?? tieBreakOf(plan.save.metric)).metric);
  return async (epoch, m, lr, seconds, sinceBest, optimizer) => {
    const state = f.state,
      value = metricValue(m, plan.save.metric);
    const best = plan.save.which === 'last' || beats(plan.save, m, state.best);
    if (best) {
      state.best = { value, second: second(m), stage: s, epoch };
      await saveModel(net.full, path.join(f.dir, 'model'), ctx.meta);
    }
    const stageBest = beats(plan.save, m, state.stageBest);
    if (stageBest) state.stageBest = { value, second: second(m), epoch };
    // From its first epoch on, the folder is kept whatever happens.
    fs.rmSync(path.join(f.dir, '.tlr-run'), { force: true });
    // The line goes first; a resume trims lines past its checkpoint, so a kill between the two never duplicates one.
    appendLine(
      path.join(f.dir, 'metrics.jsonl'),
      JSON.stringify({
        stage: s + 1,
        epoch: epoch + 1,
        ...m,
        lr,
        ...(stage.lr.auto ? { lrAuto: stage.lr.initial } : {}),
        seconds,
        best,
        time: new Date().toISOString(),
      }),
    );
    state.epoch = epoch + 1;
    state.sinceBest = sinceBest;
    await writeCheckpoint(ctx, f, optimizer, stageBest ? 'now' : 'keep');
    events.emit({ type: 'epoch', stage: s + 1, epoch: epoch + 1, epochs: stage.epochs, metrics: m, lr, seconds, best });
    events.emit({ type: 'checkpoint', stage: s + 1, epoch: epoch + 1, path: f.checkpoint, best });
    return best;
  };
}
