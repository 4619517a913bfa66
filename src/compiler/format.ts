import { isNum, type Arg, type Ast, type Location, type Statement } from './ast.js';
import { parse, type Comment } from './parse.js';
import { toAst } from './to-ast.js';
import { hasErrors, type Diagnostic } from './diagnostics.js';

// The canonical layout of a recipe. Sections, in order, separated by one blank line:
//   recipe/seed · from (weights, width, input indented) · freeze and head · the first train
//   (its settings indented) · each `then` stage · split/validate/test/augment · save.
// Recipe-wide statements may move; stage settings never cross a `then`. A comment on its own
// line travels with the statement below it; a comment after a statement stays on its line.

const STAGE_SETTINGS = ['batch', 'optimizer', 'lr', 'earlyStop', 'classWeights'] as const;
const MODEL_SETTINGS = ['weights', 'width', 'input'] as const;
const DATA = ['split', 'validate', 'test', 'augment'] as const;

interface Item { readonly stmt: Statement; leading: string[]; trailing: string[] }

const PATH_RE = /^(?:(?:\.{1,2}|~)(?:\/[^\s"#,()]*)?|\/[^\s"#,()]*)$/;
const URL_RE = /^[a-z][a-z0-9+.\-]*:\/\/[^\s"#]+$/;
const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const loc = (l: Location) => (PATH_RE.test(l.text) || URL_RE.test(l.text) ? l.text : quote(l.text));
const arg = (a: Arg) => (isNum(a) ? a.text : a.text);

/** One statement in canonical form, on one line. */
export function render(s: Statement): string {
  switch (s.kind) {
    case 'recipe': return `recipe ${quote(s.name.text)}`;
    case 'seed': return `seed ${s.value.text}`;
    case 'from': return `from ${s.model.text}`;
    case 'weights': return `weights ${s.source.kind === 'name' ? s.source.name.text : s.source.kind === 'none' ? 'none' : loc(s.source.location)}`;
    case 'width': return `width ${s.value.text}`;
    case 'input': return `input ${s.value.text}`;
    case 'freeze': {
      const t = s.target;
      return `freeze ${t.kind === 'until' ? `until ${t.layer.text}` : t.kind === 'first' ? `first ${t.count.text} layer${t.count.value === 1 ? '' : 's'}` : t.kind}`;
    }
    case 'unfreeze': {
      const t = s.target;
      return `unfreeze ${t.kind === 'from' ? `from ${t.layer.text}` : t.kind === 'last' ? `last ${t.count.text} layer${t.count.value === 1 ? '' : 's'}` : 'all'}`;
    }
    case 'head': return `head ${s.layers.map((l) => (l.args.length ? `${l.name.text}(${l.args.map(arg).join(', ')})` : l.name.text)).join(' ')}`;
    case 'train': return `train ${s.epochs.text} epoch${s.epochs.value === 1 ? '' : 's'}${s.data ? ` on ${loc(s.data)}` : ''}`;
    case 'batch': return `batch ${s.value.text}`;
    case 'optimizer': return `optimizer ${s.name.text}`;
    case 'lr': {
      const sch = s.schedule;
      return ['lr', s.value.text, ...(sch ? [sch.name.text, ...sch.args.map((a) => a.text), ...(sch.every ? ['every', sch.every.text] : [])] : [])].join(' ');
    }
    case 'earlyStop': return ['early stop', ...(s.patience ? ['patience', s.patience.text] : []), ...(s.metric ? ['on', s.metric.text] : [])].join(' ');
    case 'classWeights': return `class weights ${s.mode.text}`;
    case 'then': return 'then';
    case 'split': return `split ${s.parts.map((p) => p.text).join('/')}`;
    case 'validate': return `validate on ${loc(s.data)}`;
    case 'test': return `test on ${loc(s.data)}`;
    case 'augment': return `augment ${s.items.map((a) => [a.name.text, ...a.args.map(arg)].join(' ')).join(', ')}`;
    case 'save': return ['save', ...(s.best ? ['best by', s.best.text] : s.last ? ['last'] : []), ...(s.to ? ['to', loc(s.to)] : [])].join(' ');
  }
}

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
  const preamble: string[] = [], trailer: string[] = [];
  const first = items[0]!.stmt;
  const before = ast.comments.filter((c) => c.span.start.offset < first.span.start.offset);
  // Comments above the first statement and separated from it by a blank line belong to the file.
  let cut = -1;
  before.forEach((c, i) => {
    if (blankBetween(c.span.start.line, before[i + 1]?.span.start.line ?? first.span.start.line)) cut = i;
  });
  for (const [i, c] of ast.comments.entries()) {
    if (i <= cut) { preamble.push(c.text); continue; }
    const o = c.span.start.offset;
    const inside = items.find((it) => it.stmt.span.start.offset <= o && o < it.stmt.span.end.offset);
    const sameLine = [...items].reverse().find((it) => it.stmt.span.end.offset <= o && it.stmt.span.end.line === c.span.start.line);
    const owner = inside ?? sameLine;
    if (owner) { owner.trailing.push(c.text); continue; }
    const next = items.find((it) => it.stmt.span.start.offset > o);
    if (next) next.leading.push(c.text);
    else trailer.push(c.text);
  }
  return { items, preamble: [preamble], trailer };
}

const line = (indent: string, it: { leading: string[]; trailing: string[] }, body: string): string[] =>
  [...it.leading.map((c) => indent + c), indent + body + (it.trailing.length ? `  ${it.trailing.join(' ')}` : '')];

/** The canonical text of a parsed recipe. */
export function layout(ast: Ast, text: string): string {
  const { items, preamble, trailer } = attach(ast, text);
  const global = new Map<string, Item[]>();
  const stages: { then: Item | null; items: Item[] }[] = [{ then: null, items: [] }];
  for (const it of items) {
    const k = it.stmt.kind;
    if (k === 'then') stages.push({ then: it, items: [] });
    else if (['freeze', 'unfreeze', 'train', ...STAGE_SETTINGS].includes(k)) stages[stages.length - 1]!.items.push(it);
    else global.set(k, [...(global.get(k) ?? []), it]);
  }
  const of = (k: string) => global.get(k) ?? [];
  const flat = (its: Item[], indent = '') => its.flatMap((it) => line(indent, it, render(it.stmt)));
  const sections: string[][] = [];
  const push = (s: string[]) => { if (s.length) sections.push(s); };

  preamble.forEach(push);
  push(flat([...of('recipe'), ...of('seed')]));
  const froms = of('from');
  const modelSettings = MODEL_SETTINGS.flatMap((k) => of(k));
  push([...flat(froms), ...flat(modelSettings, froms.length ? '  ' : '')]);

  const [first, ...later] = stages;
  // In the order of `ks`, then source order: the canonical order of settings.
  const kinds = (st: { items: Item[] }, ks: readonly string[]) => ks.flatMap((k) => st.items.filter((it) => it.stmt.kind === k));
  push([...flat(kinds(first!, ['freeze', 'unfreeze'])), ...flat(of('head'))]);
  const trains = kinds(first!, ['train']);
  push([...flat(trains), ...flat(kinds(first!, STAGE_SETTINGS), trains.length ? '  ' : '')]);
  for (const st of later) {
    const opening = [st.then!, ...kinds(st, ['freeze', 'unfreeze']), ...kinds(st, ['train'])];
    const merged = { leading: opening.flatMap((it) => it.leading), trailing: opening.flatMap((it) => it.trailing) };
    push([...line('', merged, opening.map((it) => render(it.stmt)).join(' ')), ...flat(kinds(st, STAGE_SETTINGS), '  ')]);
  }
  push(flat(DATA.flatMap((k) => of(k))));
  push(flat(of('save')));
  push(trailer);
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}

export type Formatted = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Recipe text to canonical text; refuses (with the syntax diagnostics) when the recipe does not parse. */
export function format(text: string): Formatted {
  const parsed = parse(text);
  if (hasErrors(parsed.diagnostics)) return { ok: false, diagnostics: parsed.diagnostics };
  return { ok: true, text: layout(toAst(parsed), text) };
}

export type { Comment };
