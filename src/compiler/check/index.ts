import * as path from 'node:path';
import type { Ast } from '../ast.js';
import { byPosition, hasErrors, type Diagnostic } from '../diagnostics.js';
import { probeData } from '../../data/formats/index.js';
import { fileKind } from '../../data/layout.js';
import { Ctx, type CheckOptions } from './context.js';
import { group } from './statements.js';
import { runChecks } from './checks.js';
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
  const p = runChecks(ctx, group(ctx, ast.statements));
  const diagnostics = [...ctx.diagnostics].sort(byPosition);
  const { model, weights, data, head, stages, augment, features, save, seed, exports } = p;
  const complete = model && weights && data && head && stages && augment && features && save && seed != null && exports;
  if (hasErrors(diagnostics) || !complete) return { diagnostics, checked: null };
  const name = p.recipe ?? path.basename(options.file).replace(/\.tlr$/, '');
  const file = path.resolve(options.file);
  return {
    diagnostics,
    checked: {
      file,
      name,
      seed,
      model,
      weights,
      head: head.layers,
      task: head.task,
      stages,
      data,
      augment,
      features,
      save,
      exports,
    },
  };
}
