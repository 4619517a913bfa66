import * as path from 'node:path';
import type { Ctx } from './context.js';
import type { Globals, StageStatements } from './statements.js';
import type { Metric } from './checked.js';
import { metric } from './training.js';
import { saveTargetProblem } from '../../data/model-folder.js';
import { didYouMean } from './suggest.js';
import type { PlanExport } from '../../contracts/plan.js';

/**
 * `save [best by METRIC | last] [to PATH]`. A target that would replace something tlr did not
 * write (the data, the recipe's folder, a home folder, a foreign folder or file) is an error here,
 * before any training, and again in the runtime right before the model is written.
 */
/** `export onnx [softmax]`: the extra formats a run writes its model in (none unless asked). */
export function checkExport(ctx: Ctx, g: Globals): PlanExport[] | null {
  const s = g.export;
  if (!s) return [];
  if (s.format.text !== 'onnx') {
    ctx.report('TLR1702', s.format.span, `tlr cannot export to \`${s.format.text}\``, [
      ...didYouMean(s.format.text, ['onnx']),
      'write `export onnx` (the TF.js model is always written); `tlr export MODEL_DIR` converts a model later',
    ]);
    return null;
  }
  if (s.option && s.option.text !== 'softmax') {
    ctx.report('TLR1702', s.option.span, `\`export onnx\` takes \`softmax\` or nothing, not \`${s.option.text}\``, [
      '`export onnx softmax` makes the ONNX model output probabilities',
    ]);
    return null;
  }
  return [{ format: 'onnx', softmax: !!s.option }];
}

export function checkSave(
  ctx: Ctx,
  g: Globals,
  stages: readonly StageStatements[],
  task: 'single-label' | 'multi-label' | null = null,
): { metric: Metric; which: 'best' | 'last'; to: string | null } | null {
  const s = g.save;
  // Multi-label: the best model is the one ranking each label's images best (its validation mAP).
  const byDefault: Metric = task === 'multi-label' ? 'val_map' : 'val_accuracy';
  if (!s) return { metric: byDefault, which: 'best', to: null };
  const m = s.best ? metric(ctx, s.best) : byDefault;
  if (!m) return null;
  if (!s.to) return { metric: m, which: s.last ? 'last' : 'best', to: null };
  const to = ctx.resolve(s.to.text);
  const data = [stages[0]?.train?.data, g.validate?.data, g.test?.data]
    .filter((l) => l && !l.url)
    .map((l) => ctx.resolve(l!.text));
  const problem = saveTargetProblem(to, { data, recipeDir: ctx.dir });
  if (problem) {
    ctx.report('TLR1701', s.to.span, `cannot save the model to ${ctx.show(to)}: ${problem}`, [
      'tlr replaces a save target only when it is empty or a model folder tlr wrote earlier',
      `save to a new folder instead, e.g. \`save to ./models/${path.basename(ctx.opts.file).replace(/\.tlr$/, '')}\``,
    ]);
    return null;
  }
  return { metric: m, which: s.last ? 'last' : 'best', to };
}
