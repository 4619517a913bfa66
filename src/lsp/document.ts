import { compile, expand, parseTokens, toAst, type Ast, type CheckOptions } from '../compiler/index.js';
import { variantAt, type Expanded } from '../compiler/variants.js';
import type { Span } from '../compiler/source.js';
import { describe, family, type ModelInfo } from '../zoo/catalog.js';
import type { Plan } from '../contracts/plan.js';

// A recipe as the language services see it: compiled once per version, and the variant under the cursor (a sweep's
// list holds several). Positions are LSP's (0-based line and UTF-16 character); the compiler's spans are 1-based.

export interface Pos {
  readonly line: number;
  readonly character: number;
}
export interface Range {
  readonly start: Pos;
  readonly end: Pos;
}
export interface TextEdit {
  readonly range: Range;
  readonly newText: string;
}

export const toRange = (s: Span): Range => ({
  start: { line: s.start.line - 1, character: s.start.column - 1 },
  end: { line: s.end.line - 1, character: s.end.column - 1 },
});

export const inside = (s: Span, p: Pos) => {
  const r = toRange(s);
  const after = (a: Pos, b: Pos) => a.line > b.line || (a.line === b.line && a.character >= b.character);
  return after(p, r.start) && after(r.end, p);
};

/** A compiled document, kept per version: every request on one version reuses it. */
export interface Doc {
  readonly file: string;
  readonly text: string;
  readonly compiled: ReturnType<typeof compile>;
  /** Its lists of alternatives (none for a plain recipe). */
  readonly expanded: Expanded;
}

/**
 * Compiles `text` as the file at `file` (data paths resolve from its folder; a host without files passes its own
 * probe). A sweep is compiled as `tlr check` does, so its diagnostics are its variants' (named where only some have
 * them); hovers and completions read the variant under the cursor (see `viewAt`).
 */
export function openDoc(file: string, text: string, options: Partial<Omit<CheckOptions, 'file'>> = {}): Doc {
  const compiled = compile(text, { ...options, file, sweeps: true });
  // The lists compile read already (a file that is not a recipe has none read: an empty sweep layer stands for it).
  return { file, text, compiled, expanded: compiled.expanded ?? expand(text) };
}

/** One variant's tree and plan (a plain recipe is its own one variant); its spans are the document's. */
export interface View {
  readonly ast: Ast;
  readonly plan: Plan | null;
}

/** The view of the variant of alternative pick[g] of each list g (the first where pick has none). */
export function view(doc: Doc, pick: readonly number[] = []): View {
  if (!doc.expanded.groups.length) return { ast: doc.compiled.ast, plan: doc.compiled.plan };
  const v = variantAt(doc.expanded, pick);
  return {
    ast: toAst(parseTokens(doc.expanded.lexed, v.tokens)),
    plan: doc.compiled.sweep?.variants.find((x) => x.variant.id === v.id)?.plan ?? null,
  };
}

export const offsetOf = (text: string, p: Pos): number =>
  text
    .split('\n')
    .slice(0, p.line)
    .reduce((n, l) => n + l.length + 1, p.character);

/**
 * The view at the cursor: inside a list, the variant with the alternative under it (and lists varied with it at the
 * same place), so a hover on `vgg16` in `from {resnet18, vgg16}` describes VGG-16 and `freeze until` its blocks;
 * elsewhere the first variant. Null on a list's braces and commas.
 */
export function viewAt(doc: Doc, p: Pos): View | null {
  const o = offsetOf(doc.text, p);
  const pick: number[] = [];
  for (const [g, group] of doc.expanded.groups.entries()) {
    if (o < group.start || o >= group.end) continue;
    const a = group.alternatives.findIndex((x) => x.start <= o && o <= x.end);
    if (a < 0) return null;
    for (const i of doc.expanded.together.find((t) => t.includes(g)) ?? [g]) pick[i] = a;
  }
  return view(doc, pick);
}

/** The network the recipe names (with its width and input size), when the zoo has it. */
export function modelOf(v: View): ModelInfo | null {
  const st = v.ast.statements;
  const from = st.find((s) => s.kind === 'from');
  if (!from || !family(from.model.text)) return null;
  const width = st.find((s) => s.kind === 'width');
  const input = st.find((s) => s.kind === 'input');
  try {
    return describe(from.model.text, width?.value.value ?? null, input?.value.value ?? null);
  } catch {
    return describe(from.model.text);
  }
}
