import * as path from 'node:path';
import type { Ast } from '../ast.js';
import { byPosition, hasErrors, type Diagnostic } from '../diagnostics.js';
import { probeData } from '../../data/formats/index.js';
import { fileKind } from '../../data/layout.js';
import { Ctx, type CheckOptions } from './context.js';
import { group } from './statements.js';
import { checkModel, checkWeights } from './model.js';
import { checkFreezing } from './freeze.js';
import { checkHead } from './head.js';
import { checkData } from './data.js';
import { checkAugment, checkSeed, checkStages } from './training.js';
import { checkExport, checkSave } from './save.js';
import type { Checked } from './checked.js';

export type { CheckOptions } from './context.js';
export type * from './checked.js';

export interface CheckResult {
  readonly diagnostics: readonly Diagnostic[];
  /** The resolved recipe; null when there is any error. */
  readonly checked: Checked | null;
}


/** AST to a resolved recipe, or diagnostics. Reads the data folder and the zoo's metadata, nothing else. */
export function check(ast: Ast, options: Partial<CheckOptions> & { file: string }): CheckResult {
  const ctx = new Ctx({ probe: probeData, exists: fileKind, ...options });
  const g = group(ctx, ast.statements);
  const fileStart = { start: { offset: 0, line: 1, column: 1 } };
  const model = checkModel(ctx, g.globals, fileStart);
  const weights = checkWeights(ctx, g.globals, model);
  const pretrained = g.globals.weights?.source.kind !== 'none';
  const frozen = checkFreezing(ctx, model, g.stages, pretrained);
  const data = checkData(ctx, g.globals, g.stages);
  const dataShown = g.stages[0]?.train?.data ? ctx.show(ctx.resolve(g.stages[0].train.data.text)) : 'the data';
  const head = checkHead(ctx, g.globals.head, data?.classes ?? null, dataShown);
  const stages = checkStages(ctx, g.stages, frozen, model?.layers.length ?? null, pretrained, !!g.globals.augment);
  const augment = checkAugment(ctx, g.globals);
  const save = checkSave(ctx, g.globals, g.stages);
  const seed = checkSeed(ctx, g.globals);
  const exports = checkExport(ctx, g.globals);
  const diagnostics = [...ctx.diagnostics].sort(byPosition);
  if (hasErrors(diagnostics) || !model || !weights || !data || !head || !stages || !augment || !save || seed === null || !exports) {
    return { diagnostics, checked: null };
  }
  const name = g.globals.recipe?.name.text ?? path.basename(options.file).replace(/\.tlr$/, '');
  return {
    diagnostics,
    checked: { file: path.resolve(options.file), name, seed, model, weights, head, stages, data, augment, save, exports },
  };
}
