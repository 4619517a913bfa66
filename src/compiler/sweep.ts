import { tokenMatcher, type IToken } from 'chevrotain';
import type { ListSyntax, Statement } from './ast.js';
import { diag, type Diagnostic } from './diagnostics.js';
import { parser } from './grammar.js';
import { Identifier, Keyword, lexer, LBrace } from './lexer.js';
import { syntaxDiagnostic, type Lexed } from './parse.js';
import { toSweepSyntax } from './to-ast.js';
import { USAGE } from './clauses.js';

// The sweep's layer of a recipe, read by the grammar's `sweep` rule from the recipe's one token stream: its lists of
// alternatives (`lr {1e-3, 3e-4}`), its own clauses (`keep best`, `vary together`, `sample`), and what is wrong with
// them. compiler/variants.ts makes the grid of variants from what this returns.

/** One alternative of a list: its tokens, and its words as written (comments left out, spaces squeezed). */
export interface Alternative {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly tokens: readonly IToken[];
}

/** A `{…}` list: what it varies (`slot`: the statement's word, `lr`, `from`, …) and its alternatives. */
export interface Group {
  readonly slot: string;
  readonly start: number;
  readonly end: number;
  readonly alternatives: readonly Alternative[];
}

type Of<K extends Statement['kind']> = Extract<Statement, { kind: K }>;

/** The sweep's layer: lists, the sweep's clauses, and the tokens a variant is made of. */
export interface SweepRead {
  readonly groups: readonly Group[];
  /** Whether the recipe writes a list or a sweep's clause at all (a broken list leaves no group). */
  readonly written: boolean;
  readonly keep: Of<'keepBest'> | null;
  readonly together: readonly Of<'varyTogether'>[];
  readonly sample: Of<'sample'> | null;
  /** The sweep's clauses in the recipe's order. */
  readonly clauses: readonly Statement[];
  /** The recipe's tokens without the sweep's clauses; each list still stands in them. */
  readonly tokens: readonly IToken[];
  readonly diagnostics: readonly Diagnostic[];
  /** The recipe's text. */
  readonly text: string;
}

// The statement words a list can follow, and the name its values are shown under.
const SLOT_WORDS = new Map([
  ['from', 'from'],
  ['weights', 'weights'],
  ['width', 'width'],
  ['input', 'input'],
  ['until', 'freeze until'],
  ['freeze', 'freeze'],
  ['unfreeze', 'unfreeze'],
  ['head', 'head'],
  ['train', 'epochs'],
  ['on', 'on'],
  ['batch', 'batch'],
  ['optimizer', 'optimizer'],
  ['lr', 'lr'],
  ['split', 'split'],
  ['augment', 'augment'],
  ['seed', 'seed'],
  ['warmup', 'warmup'],
  ['patience', 'patience'],
  ['every', 'every'],
  ['then', 'then'],
]);

export const normal = (s: string): string => s.trim().replace(/\s+/g, ' ');
const end = (t: IToken) => t.endOffset! + 1;
const isWord = (t: IToken) => tokenMatcher(t, Identifier) || tokenMatcher(t, Keyword);

/** The recipe's sweep layer, from its tokens. */
export function readSweep(lexed: Lexed): SweepRead {
  parser.input = lexed.tokens as IToken[];
  const cst = parser.sweep();
  const diagnostics = parser.errors.map((e) => syntaxDiagnostic(e, lexed.lines, lexed.text));
  const syntax = toSweepSyntax(cst, lexed.lines);
  const clauses = [...syntax.clauses].sort((a, b) => a.span.start.offset - b.span.start.offset);
  const inClause = (t: IToken) =>
    clauses.some((c) => c.span.start.offset <= t.startOffset && end(t) <= c.span.end.offset);
  const tokens = lexed.tokens.filter((t) => !inClause(t));
  const lists = [...syntax.lists].sort((a, b) => a.open.startOffset - b.open.startOffset);
  const groups = readLists(lists, tokens, lexed, diagnostics);
  const stopped = groups.length < lists.length ? (lists[groups.length]?.open.startOffset ?? Infinity) : Infinity;
  for (const t of syntax.strays)
    if (t.startOffset < stopped && !Number.isNaN(t.startOffset))
      diagnostics.push(diag('TLR0001', lexed.lines.span(t.startOffset, end(t)), '`}` without a `{` before it'));
  const once = (kind: 'keepBest' | 'sample'): Statement | null => {
    const all = clauses.filter((c) => c.kind === kind);
    for (const c of all.slice(1))
      diagnostics.push(
        diag(
          'TLR0215',
          c.span,
          `a second \`${kind === 'sample' ? 'sample' : 'keep best'}\`; the first is on line ${all[0]!.span.start.line}`,
        ),
      );
    return all[0] ?? null;
  };
  const keep = once('keepBest') as Of<'keepBest'> | null;
  if (keep && keep.word.text !== 'after')
    diagnostics.push(
      diag('TLR0101', keep.word.span, `expected 'after' but found '${keep.word.text}'`, [`write ${USAGE['keepBest']}`]),
    );
  return {
    groups,
    written: lists.length > 0 || clauses.length > 0,
    keep,
    together: clauses.filter((c): c is Of<'varyTogether'> => c.kind === 'varyTogether'),
    sample: once('sample') as Of<'sample'> | null,
    clauses,
    tokens,
    diagnostics,
    text: lexed.text,
  };
}

/**
 * The lists, each with its slot: the word of the last statement before it (`lr`, `freeze until`), numbered when
 * several lists follow one word (`lr (2)`). Reading stops at a list that is never closed, as the text after it is
 * the list's.
 */
function readLists(lists: readonly ListSyntax[], tokens: readonly IToken[], lexed: Lexed, out: Diagnostic[]): Group[] {
  const groups: Group[] = [];
  const counts = new Map<string, number>();
  let lastWord = '',
    at = 0;
  for (const list of lists) {
    for (; at < tokens.length && tokens[at]!.startOffset < list.open.startOffset; at++) {
      const t = tokens[at]!;
      const inEarlier = groups.some((g) => g.start <= t.startOffset && t.startOffset < g.end);
      if (!inEarlier && isWord(t) && SLOT_WORDS.has(t.image)) lastWord = t.image;
    }
    const g = readList(list, tokens, lexed, out);
    if (!g) break;
    const base = SLOT_WORDS.get(lastWord) ?? 'value';
    const n = (counts.get(base) ?? 0) + 1;
    counts.set(base, n);
    groups.push({ ...g, slot: n === 1 ? base : `${base} (${n})` });
  }
  return groups;
}

/** A list's alternatives, with what is wrong with them; null when it is never closed. */
function readList(
  list: ListSyntax,
  tokens: readonly IToken[],
  lexed: Lexed,
  out: Diagnostic[],
): Omit<Group, 'slot'> | null {
  const { lines } = lexed;
  const seps = [list.open, ...list.commas, ...(list.close ? [list.close] : [])];
  const alternatives: Alternative[] = [];
  list.alternatives.forEach((toks, i) => {
    const after = seps[i + 1];
    if (!after) return; // the piece an unclosed list ends with
    if (toks.length) alternatives.push(alternativeOf(toks, lexed));
    else out.push(diag('TLR0202', lines.span(end(seps[i]!), end(after)), 'an empty alternative'));
  });
  if (!list.close) {
    const last = seps.at(-1)!;
    const lastTok = [last, ...(list.alternatives.at(-1) ?? [])].at(-1)!;
    const next = tokens.find((t) => t.startOffset > lastTok.startOffset);
    out.push(
      next && next.tokenType === LBrace
        ? diag('TLR0203', lines.span(next.startOffset, end(next)), 'a `{` inside a list of alternatives')
        : diag('TLR0201', lines.span(list.open.startOffset, end(list.open)), 'this `{` is never closed with `}`'),
    );
    return null;
  }
  checkAlternatives(alternatives, lexed, out);
  checkSeams(list, alternatives, tokens, lexed, out);
  return { start: list.open.startOffset, end: end(list.close), alternatives };
}

/** An alternative's words: its text from its first token to its last, without comments, spaces squeezed. */
function alternativeOf(toks: readonly IToken[], lexed: Lexed): Alternative {
  const start = toks[0]!.startOffset,
    stop = end(toks.at(-1)!);
  let text = '',
    at = start;
  for (const c of lexed.comments) {
    const o = c.span.start.offset;
    if (o < start || o >= stop) continue;
    text += lexed.text.slice(at, o);
    at = c.span.end.offset;
  }
  text += lexed.text.slice(at, stop);
  return { text: normal(text), start, end: stop, tokens: toks };
}

function checkAlternatives(alts: readonly Alternative[], lexed: Lexed, out: Diagnostic[]): void {
  const span = (a: Alternative) => lexed.lines.span(a.start, a.end);
  if (alts.length === 1)
    out.push(
      diag('TLR0205', span(alts[0]!), `a list of one alternative (${alts[0]!.text})`, [
        `write ${alts[0]!.text} without the braces`,
      ]),
    );
  // Numbers by value: `lr {0.001, 1e-3}` would train one plan twice.
  const seen = new Map<string, string>();
  for (const a of alts) {
    const key = /^[0-9.eE+-]+$/.test(a.text) && Number.isFinite(Number(a.text)) ? `#${Number(a.text)}` : a.text;
    const before = seen.get(key);
    if (before === undefined) seen.set(key, a.text);
    else
      out.push(
        diag(
          'TLR0204',
          span(a),
          before === a.text
            ? `${a.text} is listed twice in this list`
            : `${a.text} is ${before} again: the same value twice in this list`,
        ),
      );
  }
}

/**
 * A list touching the word beside it, where an alternative would join that word (`block{3, 4}`, `./data/{a, b}`):
 * the variant's text would read as one word, which its tokens are not.
 */
function checkSeams(
  list: ListSyntax,
  alts: readonly Alternative[],
  tokens: readonly IToken[],
  lexed: Lexed,
  out: Diagnostic[],
): void {
  const i = tokens.indexOf(list.open);
  const before = tokens[i - 1],
    after = tokens.find((t) => t.startOffset >= end(list.close!));
  const joins = (a: IToken, b: IToken) => {
    const two = lexer.tokenize(a.image + b.image).tokens;
    return two.length !== 2 || two[0]!.tokenType !== a.tokenType || two[1]!.tokenType !== b.tokenType;
  };
  const glued = alts.some(
    (alt) =>
      (before && end(before) === list.open.startOffset && joins(before, alt.tokens[0]!)) ||
      (after && end(list.close!) === after.startOffset && joins(alt.tokens.at(-1)!, after)),
  );
  if (glued)
    out.push(
      diag(
        'TLR0214',
        lexed.lines.span(list.open.startOffset, end(list.close!)),
        'this list touches the word beside it, and an alternative would join that word',
        [`list whole words, with a space around the braces: ${suggestion(before, after, alts, list)}`],
      ),
    );
}

const suggestion = (
  before: IToken | undefined,
  after: IToken | undefined,
  alts: readonly Alternative[],
  list: ListSyntax,
): string => {
  const pre = before && end(before) === list.open.startOffset ? before.image : '';
  const post = after && end(list.close!) === after.startOffset ? after.image : '';
  return `{${alts.map((a) => `${pre}${a.text}${post}`).join(', ')}}`;
};
