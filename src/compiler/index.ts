// The compiler: pure stages, each a function from one readonly form to the next.
//
//   text ──lex──▶ tokens ──readSweep──▶ lists, sweep clauses ──expand──▶ variants (one token stream each)
//                                       (grammar rule `sweep`)                       │
//          ┌─────────────────────────────────────────────────────────────────────────┘
//          ▼
//   tokens ──parseTokens──▶ CST ──toAst──▶ AST ──check──▶ Checked ──toPlan──▶ Plan ──assertPlan──▶ ok
//          (rule `recipe`,         (spans:  (diagnostics;             (JSON,          (ajv, schema/
//           syntax diagnostics)    tokens') reads data + zoo)          versioned)      plan.schema.json)
//
// A recipe without lists is a sweep of one variant: every recipe takes this one path, and its text is lexed once.
//
// `format` takes the AST (and comments) back to canonical text; it never changes the plan.

import { notARecipe, parse, parseTokens } from './parse.js';
import { LBrace, RBrace } from './lexer.js';
import { toAst } from './to-ast.js';
import { check, type CheckOptions } from './check/index.js';
import { toPlan } from './plan.js';
import { assertPlan } from '../contracts/validate.js';
import { byPosition, diag, hasErrors, type Diagnostic } from './diagnostics.js';
import type { Plan } from '../contracts/plan.js';
import type { Ast } from './ast.js';
import type { Parsed } from './parse.js';
import { expand, refuseSweep, type Expanded, type Group, type Keep, type Variant } from './variants.js';

export { expand, parse, parseTokens, toAst, check, toPlan };
export type { Group, Keep, Variant };
export { format } from './format.js';
export type { Diagnostic, Plan, Ast, Parsed, CheckOptions };

export interface Compiled {
  readonly parsed: Parsed;
  readonly ast: Ast;
  readonly diagnostics: readonly Diagnostic[];
  /** Present when there are no errors; always valid against the schema. */
  readonly plan: Plan | null;
}

/** A sweep's variant, compiled: its plan when it checks. */
export interface CompiledVariant {
  readonly variant: Variant;
  readonly plan: Plan | null;
}

/** A recipe with lists of alternatives: every variant compiled. */
export interface Sweep {
  readonly groups: readonly Group[];
  /** `keep best N after K epochs`, or null: every variant runs to its end. */
  readonly keep: Keep | null;
  /** `vary together` lines: lists (indices into groups) taking their alternatives side by side. */
  readonly together: readonly (readonly number[])[];
  /** `sample N`: N of the grid's `of` variants. */
  readonly sample: { readonly n: number; readonly of: number } | null;
  readonly variants: readonly CompiledVariant[];
}

/** The whole chain for one variant. Syntax errors stop it before the checker (which would only add noise). */
function compileOne(e: Expanded, v: Variant, options: Partial<CheckOptions> & { file: string }): Compiled {
  const parsed = parseTokens(e.lexed, v.tokens, e.lexed.diagnostics);
  const ast = toAst(parsed);
  if (hasErrors(parsed.diagnostics)) return { parsed, ast, diagnostics: parsed.diagnostics, plan: null };
  const { diagnostics, checked } = check(ast, options);
  const all = [...parsed.diagnostics, ...diagnostics].sort(byPosition);
  if (!checked) return { parsed, ast, diagnostics: all, plan: null };
  const plan = toPlan(checked);
  assertPlan(plan);
  return { parsed, ast, diagnostics: all, plan };
}

/**
 * The whole chain. A recipe with lists of alternatives compiles to a sweep (`sweep`, no `plan`) where the caller
 * takes one (`sweeps`); elsewhere it is an error that says which commands take it.
 */
export function compile(
  text: string,
  options: Partial<CheckOptions> & { file: string; sweeps?: boolean },
): Compiled & { readonly sweep: Sweep | null; readonly expanded: Expanded | null } {
  // A file that is not a recipe (a link to .git/config, a key) is one diagnostic; its lists are not read either.
  if (notARecipe(text)) {
    const parsed = parse(text);
    return { parsed, ast: toAst(parsed), diagnostics: parsed.diagnostics, plan: null, sweep: null, expanded: null };
  }
  const expanded = expand(text);
  const broken = hasErrors(expanded.diagnostics);
  if (!expanded.written && !broken)
    return { ...compileOne(expanded, expanded.variants[0]!, options), sweep: null, expanded };
  if (!options.sweeps || !expanded.variants.length) {
    // The first variant's tree stands for the recipe's shape; with a broken list, the recipe's tokens without braces
    // (an editor still completes and hovers by the statements it can read).
    const tokens =
      expanded.variants[0]?.tokens ??
      expanded.lexed.tokens.filter((t) => t.tokenType !== LBrace && t.tokenType !== RBrace);
    const parsed = parseTokens(expanded.lexed, tokens);
    const refuse = options.sweeps ? [] : refuseSweep(expanded);
    const diagnostics = [...expanded.lexed.diagnostics, ...expanded.diagnostics, ...refuse].sort(byPosition);
    return { parsed, ast: toAst(parsed), diagnostics, plan: null, sweep: null, expanded };
  }
  const variants = expanded.variants.map((variant) => ({ variant, ...compileOne(expanded, variant, options) }));
  return {
    parsed: variants[0]!.parsed,
    ast: variants[0]!.ast,
    diagnostics: [...expanded.diagnostics, ...sweepDiagnostics(variants), ...keepTooLate(expanded, variants)].sort(
      byPosition,
    ),
    plan: null,
    expanded,
    sweep: {
      groups: expanded.groups,
      keep: expanded.keep,
      together: expanded.together,
      sample: expanded.sample,
      variants: variants.map((v) => ({ variant: v.variant, plan: v.plan })),
    },
  };
}

/** `keep best N after K epochs` where no variant trains more than K epochs: the screen would stop nothing. */
function keepTooLate(e: ReturnType<typeof expand>, variants: readonly { plan: Plan | null }[]): Diagnostic[] {
  const plans = variants.flatMap((v) => (v.plan ? [v.plan] : []));
  const line = e.clauses.find((c) => c.kind === 'keepBest');
  if (!e.keep || !line || plans.length !== variants.length) return [];
  const most = Math.max(...plans.map((p) => p.stages.reduce((n, s) => n + s.epochs, 0)));
  if (most > e.keep.after) return [];
  return [
    diag(
      'TLR0209',
      line.span,
      `keep best ${e.keep.best} after ${e.keep.after} epochs: the variants train at most ${most} ` +
        `epoch${most === 1 ? '' : 's'}, so every one ends before the screen and none is stopped early`,
      [
        `screen after fewer epochs than the variants train (keep best ${e.keep.best} after ` +
          `${Math.max(1, most - 1)} epochs)`,
      ],
    ),
  ];
}

/**
 * Every variant's diagnostics placed in the recipe: one that every variant has is reported once; one that only some
 * have names each of them.
 */
function sweepDiagnostics(variants: readonly { variant: Variant; diagnostics: readonly Diagnostic[] }[]): Diagnostic[] {
  const seen = new Map<string, { d: Diagnostic; in: Variant[] }>();
  for (const v of variants)
    for (const d of v.diagnostics) {
      const placed = d;
      const key = `${placed.code}@${placed.span.start.offset}-${placed.span.end.offset}:${placed.message}`;
      const entry = seen.get(key) ?? { d: placed, in: [] };
      entry.in.push(v.variant);
      seen.set(key, entry);
    }
  return [...seen.values()].flatMap(({ d, in: where }) =>
    where.length === variants.length
      ? [d]
      : where.map((v) => ({ ...d, message: `variant ${v.id} (${v.name}): ${d.message}` })),
  );
}
