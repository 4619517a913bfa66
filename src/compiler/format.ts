import { expand, refuseSweep } from './variants.js';
import type { Ast, Statement } from './ast.js';
import { kindsIn, kindsOf, render } from './clauses.js';
import { parse, type Comment } from './parse.js';
import { toAst } from './to-ast.js';
import { hasErrors, type Diagnostic } from './diagnostics.js';

// The canonical layout of a recipe (each clause's section and text: clauses.ts). Sections, in
// order, separated by one blank line:
//   recipe/seed · from (weights, width, input indented) · freeze and head · the first train
//   (its settings indented) · each `then` stage · split/validate/test/augment · save.
// Recipe-wide statements may move; stage settings never cross a `then`. A comment on its own
// line travels with the statement below it; a comment after a statement stays on its line.

const STAGE_SETTINGS = kindsIn('stage-setting');
const MODEL_SETTINGS = kindsIn('model-setting');
const DATA = kindsIn('data');
const STAGE = new Set<string>(kindsOf('stage'));

interface Item {
  readonly stmt: Statement;
  leading: string[];
  trailing: string[];
}

export { render };

function attach(ast: Ast, text: string): { items: Item[]; preamble: string[][]; trailer: string[] } {
  const items: Item[] = ast.statements.map((stmt) => ({ stmt, leading: [], trailing: [] }));
  const source = text.split('\n');
  const blankBetween = (a: number, b: number) => source.slice(a, b - 1).some((l) => !l.trim());
  if (!items.length) {
    // Only comments: keep their groups as the blank lines separated them.
    const groups: string[][] = [];
    ast.comments.forEach((c, i) => {
      const prev = ast.comments[i - 1];
      if (!prev || blankBetween(prev.span.start.line, c.span.start.line)) groups.push([]);
      groups[groups.length - 1]!.push(c.text);
    });
    return { items, preamble: groups, trailer: [] };
  }
  const preamble: string[] = [],
    trailer: string[] = [];
  const first = items[0]!.stmt;
  const before = ast.comments.filter((c) => c.span.start.offset < first.span.start.offset);
  // Comments above the first statement and separated from it by a blank line belong to the file.
  let cut = -1;
  before.forEach((c, i) => {
    if (blankBetween(c.span.start.line, before[i + 1]?.span.start.line ?? first.span.start.line)) cut = i;
  });
  for (const [i, c] of ast.comments.entries()) {
    if (i <= cut) {
      preamble.push(c.text);
      continue;
    }
    const o = c.span.start.offset;
    const inside = items.find((it) => it.stmt.span.start.offset <= o && o < it.stmt.span.end.offset);
    const sameLine = [...items]
      .reverse()
      .find((it) => it.stmt.span.end.offset <= o && it.stmt.span.end.line === c.span.start.line);
    const owner = inside ?? sameLine;
    if (owner) {
      owner.trailing.push(c.text);
      continue;
    }
    const next = items.find((it) => it.stmt.span.start.offset > o);
    if (next) next.leading.push(c.text);
    else trailer.push(c.text);
  }
  return { items, preamble: [preamble], trailer };
}

const line = (indent: string, it: { leading: string[]; trailing: string[] }, body: string): string[] => [
  ...it.leading.map((c) => indent + c),
  indent + body + (it.trailing.length ? `  ${it.trailing.join(' ')}` : ''),
];

/** The canonical text of a parsed recipe. */
export function layout(ast: Ast, text: string): string {
  const { items, preamble, trailer } = attach(ast, text);
  const global = new Map<string, Item[]>();
  const stages: { then: Item | null; items: Item[] }[] = [{ then: null, items: [] }];
  for (const it of items) {
    const k = it.stmt.kind;
    if (k === 'then') stages.push({ then: it, items: [] });
    else if (STAGE.has(k)) stages[stages.length - 1]!.items.push(it);
    else global.set(k, [...(global.get(k) ?? []), it]);
  }
  const of = (k: string) => global.get(k) ?? [];
  const flat = (its: Item[], indent = '') => its.flatMap((it) => line(indent, it, render(it.stmt)));
  const sections: string[][] = [];
  const push = (s: string[]) => {
    if (s.length) sections.push(s);
  };

  preamble.forEach(push);
  push(flat([...of('recipe'), ...of('seed')]));
  const froms = of('from');
  const modelSettings = MODEL_SETTINGS.flatMap((k) => of(k));
  push([...flat(froms), ...flat(modelSettings, froms.length ? '  ' : '')]);

  const [first, ...later] = stages;
  // In the order of `ks`, then source order: the canonical order of settings.
  const kinds = (st: { items: Item[] }, ks: readonly string[]) =>
    ks.flatMap((k) => st.items.filter((it) => it.stmt.kind === k));
  push([...flat(kinds(first!, kindsIn('freeze'))), ...flat(kindsIn('head').flatMap((k) => of(k)))]);
  const trains = kinds(first!, ['train']);
  push([...flat(trains), ...flat(kinds(first!, STAGE_SETTINGS), trains.length ? '  ' : '')]);
  for (const st of later) {
    const opening = [st.then!, ...kinds(st, kindsIn('freeze')), ...kinds(st, ['train'])];
    const merged = { leading: opening.flatMap((it) => it.leading), trailing: opening.flatMap((it) => it.trailing) };
    push([
      ...line('', merged, opening.map((it) => render(it.stmt)).join(' ')),
      ...flat(kinds(st, STAGE_SETTINGS), '  '),
    ]);
  }
  push(flat(DATA.flatMap((k) => of(k))));
  push(flat(kindsIn('save').flatMap((k) => of(k))));
  push(trailer);
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}

export type Formatted =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Recipe text to canonical text; refuses (with the syntax diagnostics) when the recipe does not parse. */
export function format(text: string): Formatted {
  // A sweep's lists are not laid out yet: say so rather than report `{` as a stray character.
  const sweep = refuseSweep(expand(text), text);
  if (sweep.length) return { ok: false, diagnostics: sweep };
  const parsed = parse(text);
  if (hasErrors(parsed.diagnostics)) return { ok: false, diagnostics: parsed.diagnostics };
  return { ok: true, text: layout(toAst(parsed), text) };
}

export type { Comment };
