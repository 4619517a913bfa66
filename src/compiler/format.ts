import { expand, variantAt, type Expanded, type Group } from './variants.js';
import type { Ast } from './ast.js';
import { kindsIn, kindsOf, render } from './clauses.js';
import { notARecipe, parseTokens, type Comment } from './parse.js';
import { toAst } from './to-ast.js';
import { diag, hasErrors, type Diagnostic } from './diagnostics.js';
import type { LineIndex } from './source.js';

// The canonical layout of a recipe (each clause's section and text: clauses.ts). Sections, in
// order, separated by one blank line:
//   recipe/seed · from (weights, width, input indented) · freeze and head · the first train
//   (its settings indented) · each `then` stage · split/validate/test/augment · save.
// Recipe-wide statements may move; stage settings never cross a `then`. A comment on its own
// line travels with the statement below it; a comment after a statement stays on its line.
// A sweep's lists stay where they stand, with every statement they overlap; its own lines
// (`vary together`, `sample`, `keep best`) come last.

const STAGE_SETTINGS = kindsIn('stage-setting');
const MODEL_SETTINGS = kindsIn('model-setting');
const DATA = kindsIn('data');
const STAGE = new Set<string>(kindsOf('stage'));

/** A statement, or a line of the sweep's own, where it is in the recipe's text, with its canonical text. */
interface Item {
  /** The statement's kind; `sweep` for `keep best`, `vary together` and `sample`. */
  readonly kind: string;
  readonly body: string;
  readonly start: number;
  readonly end: number;
  readonly startLine: number;
  readonly endLine: number;
  leading: string[];
  trailing: string[];
}

/** A comment where it is in the recipe's text. */
interface Placed {
  readonly text: string;
  readonly offset: number;
  readonly line: number;
}

function attach(items: Item[], comments: readonly Placed[], text: string): { preamble: string[][]; trailer: string[] } {
  const source = text.split('\n');
  const blankBetween = (a: number, b: number) => source.slice(a, b - 1).some((l) => !l.trim());
  if (!items.length) {
    // Only comments: keep their groups as the blank lines separated them.
    const groups: string[][] = [];
    comments.forEach((c, i) => {
      const prev = comments[i - 1];
      if (!prev || blankBetween(prev.line, c.line)) groups.push([]);
      groups[groups.length - 1]!.push(c.text);
    });
    return { preamble: groups, trailer: [] };
  }
  const preamble: string[] = [],
    trailer: string[] = [];
  const first = items[0]!;
  const before = comments.filter((c) => c.offset < first.start);
  // Comments above the first statement and separated from it by a blank line belong to the file.
  let cut = -1;
  before.forEach((c, i) => {
    if (blankBetween(c.line, before[i + 1]?.line ?? first.startLine)) cut = i;
  });
  for (const [i, c] of comments.entries()) {
    if (i <= cut) {
      preamble.push(c.text);
      continue;
    }
    const o = c.offset;
    const inside = items.find((it) => it.start <= o && o < it.end);
    const sameLine = [...items].reverse().find((it) => it.end <= o && it.endLine === c.line);
    const owner = inside ?? sameLine;
    if (owner) {
      owner.trailing.push(c.text);
      continue;
    }
    const next = items.find((it) => it.start > o);
    if (next) next.leading.push(c.text);
    else trailer.push(c.text);
  }
  return { preamble: [preamble], trailer };
}

const line = (indent: string, it: { leading: string[]; trailing: string[] }, body: string): string[] => [
  ...it.leading.map((c) => indent + c),
  indent + body + (it.trailing.length ? `  ${it.trailing.join(' ')}` : ''),
];

/** The canonical text of a recipe's items, in the recipe's order, with its comments. */
function layout(items: Item[], comments: readonly Placed[], text: string): string {
  const { preamble, trailer } = attach(items, comments, text);
  const global = new Map<string, Item[]>();
  const stages: { then: Item | null; items: Item[] }[] = [{ then: null, items: [] }];
  for (const it of items) {
    const k = it.kind;
    if (k === 'then') stages.push({ then: it, items: [] });
    else if (STAGE.has(k)) stages[stages.length - 1]!.items.push(it);
    else global.set(k, [...(global.get(k) ?? []), it]);
  }
  const of = (k: string) => global.get(k) ?? [];
  const flat = (its: Item[], indent = '') => its.flatMap((it) => line(indent, it, it.body));
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
    ks.flatMap((k) => st.items.filter((it) => it.kind === k));
  push([...flat(kinds(first!, kindsIn('freeze'))), ...flat(kindsIn('head').flatMap((k) => of(k)))]);
  const trains = kinds(first!, ['train']);
  push([...flat(trains), ...flat(kinds(first!, STAGE_SETTINGS), trains.length ? '  ' : '')]);
  for (const st of later) {
    const opening = [st.then!, ...kinds(st, kindsIn('freeze')), ...kinds(st, ['train'])];
    const merged = { leading: opening.flatMap((it) => it.leading), trailing: opening.flatMap((it) => it.trailing) };
    push([...line('', merged, opening.map((it) => it.body).join(' ')), ...flat(kinds(st, STAGE_SETTINGS), '  ')]);
  }
  push(flat(DATA.flatMap((k) => of(k))));
  push(flat(kindsIn('save').flatMap((k) => of(k))));
  push(flat(of('sweep')));
  push(trailer);
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}

/** Statements that a list of alternatives overlaps, laid out together as one line (or as written, around a comment). */
interface Unit {
  readonly members: readonly number[];
  readonly start: number;
  readonly end: number;
}

/**
 * The units of a sweep: a list can hold several statements (`from {mobilenet_v1 width 0.25, resnet18}` holds a
 * `width`), so each list and every statement it overlaps stay together, at the place of the first of them.
 */
function unitsOf(placed: readonly { start: number; end: number }[], groups: readonly Group[]): Unit[] {
  let units: Unit[] = [];
  for (const g of groups) {
    let u = { start: g.start, end: g.end };
    for (let grown = true; grown; ) {
      const over = units.filter((o) => o.start < u.end && o.end > u.start);
      const members = placed.filter((p) => p.start < u.end && p.end > u.start);
      const next = {
        start: Math.min(u.start, ...over.map((o) => o.start), ...members.map((p) => p.start)),
        end: Math.max(u.end, ...over.map((o) => o.end), ...members.map((p) => p.end)),
      };
      grown = next.start !== u.start || next.end !== u.end;
      units = units.filter((o) => !over.includes(o));
      u = next;
    }
    const members = placed.flatMap((p, i) => (p.start < u.end && p.end > u.start ? [i] : []));
    units.push({ ...u, members });
  }
  return units;
}

/** Whether the recipe has a comment between two offsets. */
const hasComment = (e: Expanded, start: number, end: number): boolean =>
  e.lexed.comments.some((c) => start <= c.span.start.offset && c.span.start.offset < end);

/** Text with each run of spaces and line breaks outside strings made one space. */
function squeeze(text: string): string {
  return text
    .split(/("(?:\\.|[^"\\\n])*"?)/)
    .map((part, i) => (i % 2 ? part : part.replace(/\s+/g, ' ')))
    .join('');
}

/**
 * A unit's text: as written with its spaces made single and each list as `{a, b}`. Words beside a list stay as
 * written (their canonical form could differ between alternatives); around a comment the unit stays as written.
 */
function unitText(e: Expanded, u: Unit): string {
  if (hasComment(e, u.start, u.end)) return e.text.slice(u.start, u.end).trim();
  let out = '',
    at = u.start;
  for (const g of e.groups.filter((g) => g.start >= u.start && g.end <= u.end)) {
    out += squeeze(e.text.slice(at, g.start));
    out += `{${g.alternatives.map((a) => squeeze(e.text.slice(a.start, a.end))).join(', ')}}`;
    at = g.end;
  }
  return (out + squeeze(e.text.slice(at, u.end))).trim();
}

/** The recipe's statements, units and sweep lines as items, in the recipe's order; units held as written. */
function itemsOf(ast: Ast, e: Expanded, lines: LineIndex): { items: Item[]; asWritten: Unit[]; stray: Unit[] } {
  const placed = ast.statements.map((stmt) => ({ stmt, start: stmt.span.start.offset, end: stmt.span.end.offset }));
  const all = unitsOf(placed, e.groups);
  const units = all.filter((u) => u.members.length);
  const item = (kind: string, body: string, start: number, end: number): Item => ({
    kind,
    body,
    start,
    end,
    startLine: lines.position(start).line,
    endLine: lines.position(end).line,
    leading: [],
    trailing: [],
  });
  const inUnit = new Set(units.flatMap((u) => u.members));
  const items = [
    ...placed.flatMap((p, i) => (inUnit.has(i) ? [] : [item(p.stmt.kind, render(p.stmt), p.start, p.end)])),
    ...units.map((u) => item(placed[u.members[0]!]!.stmt.kind, unitText(e, u), u.start, u.end)),
    ...e.clauses.map((c) => item('sweep', render(c), c.span.start.offset, c.span.end.offset)),
  ].sort((a, b) => a.start - b.start);
  const asWritten = units.filter((u) => hasComment(e, u.start, u.end));
  return { items, asWritten, stray: all.filter((u) => !u.members.length) };
}

export type Formatted =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Syntax errors of the recipe, or of any alternative of a sweep's lists (each tried with the other lists' first: a
 * sum of parses, not the grid's product), placed in the recipe.
 */
function syntaxErrors(e: Expanded): Diagnostic[] {
  const picks = [[], ...e.groups.flatMap((g, i) => g.alternatives.slice(1).map((_, a) => ({ [i]: a + 1 })))];
  for (const pick of picks) {
    const d = parseTokens(e.lexed, variantAt(e, Object.assign([], pick)).tokens, e.lexed.diagnostics).diagnostics;
    if (hasErrors(d)) return [...d];
  }
  return [];
}

/** Mistakes in a sweep's lists that leave nothing to lay out. */
const BROKEN_LISTS = new Set(['TLR0001', 'TLR0201', 'TLR0202', 'TLR0203']);

/**
 * Recipe text to canonical text; refuses (with the syntax diagnostics) when the recipe does not parse. A sweep is laid
 * out by its first variant's statements, each list kept where it stands.
 */
export function format(text: string): Formatted {
  // A file that is not a recipe is one diagnostic that quotes nothing of it (a link to .git/config, a key).
  const foreign = notARecipe(text);
  if (foreign) return { ok: false, diagnostics: [foreign] };
  const e = expand(text);
  const broken = e.diagnostics.filter((d) => BROKEN_LISTS.has(d.code));
  if (broken.length) return { ok: false, diagnostics: broken };
  const lines = e.lexed.lines;
  const syntax = syntaxErrors(e);
  if (syntax.length) return { ok: false, diagnostics: syntax };
  const ast = toAst(parseTokens(e.lexed, variantAt(e).tokens));
  const { items, asWritten, stray } = itemsOf(ast, e, lines);
  if (stray.length)
    return {
      ok: false,
      diagnostics: stray.map((u) =>
        diag('TLR0213', lines.span(u.start, u.end), 'this list holds no statement: tlr fmt has nowhere to put it'),
      ),
    };
  const comments = ast.comments
    .map((c) => ({ text: c.text, offset: c.span.start.offset, line: c.span.start.line }))
    .filter((c) => !asWritten.some((u) => u.start <= c.offset && c.offset < u.end));
  return { ok: true, text: layout(items, comments, text) };
}

export type { Comment };
