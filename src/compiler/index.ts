// The compiler: pure stages, each a function from one readonly form to the next.
//
//   text ──parse──▶ CST ──toAst──▶ AST ──check──▶ Checked ──toPlan──▶ Plan ──assertPlan──▶ ok
//          (lex + parse,           (spans)  (diagnostics;             (JSON,          (ajv, schema/
//           syntax diagnostics)            reads data + zoo)          versioned)      plan.schema.json)
//
// `format` takes the AST (and comments) back to canonical text; it never changes the plan.

import { parse } from './parse.js';
import { toAst } from './to-ast.js';
import { check, type CheckOptions } from './check/index.js';
import { toPlan } from './plan.js';
import { assertPlan } from '../plan/validate.js';
import { byPosition, hasErrors, type Diagnostic } from './diagnostics.js';
import type { Plan } from '../plan/types.js';
import type { Ast } from './ast.js';
import type { Parsed } from './parse.js';

export { parse, toAst, check, toPlan };
export { format } from './format.js';
export type { Diagnostic, Plan, Ast, Parsed, CheckOptions };

export interface Compiled {
  readonly parsed: Parsed;
  readonly ast: Ast;
  readonly diagnostics: readonly Diagnostic[];
  /** Present when there are no errors; always valid against the schema. */
  readonly plan: Plan | null;
}

/** The whole chain. Syntax errors stop it before the checker (which would only add noise). */
export function compile(text: string, options: Partial<CheckOptions> & { file: string }): Compiled {
  const parsed = parse(text);
  const ast = toAst(parsed);
  if (hasErrors(parsed.diagnostics)) return { parsed, ast, diagnostics: parsed.diagnostics, plan: null };
  const { diagnostics, checked } = check(ast, options);
  const all = [...parsed.diagnostics, ...diagnostics].sort(byPosition);
  if (!checked) return { parsed, ast, diagnostics: all, plan: null };
  const plan = toPlan(checked);
  assertPlan(plan);
  return { parsed, ast, diagnostics: all, plan };
}
