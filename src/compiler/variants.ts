import { diag, type Diagnostic } from './diagnostics.js';
import { LineIndex } from './source.js';

// Variants: a value written as a list of alternatives, `lr {1e-3, 3e-4}`, makes the recipe a sweep,
// one variant for each choice of one alternative per list (the cross product). This stage runs
// before `parse`: each variant is the recipe's text with every list replaced by one alternative,
// so the rest of the chain (parse, check, toPlan) and both engines read a variant as any recipe.
// Positions in a variant's text map back to the recipe's (`toSource`), so diagnostics point at it.

/** One alternative of a list, as written. */
export interface Alternative {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** A `{…}` list: what it varies (`slot`: the statement's word, `lr`, `from`, …) and its alternatives. */
export interface Group {
  readonly slot: string;
  readonly start: number;
  readonly end: number;
  readonly alternatives: readonly Alternative[];
}

/** One variant: an alternative of each list. */
export interface Variant {
  /** Stable when the recipe is reordered or reformatted: a hash of the choices, not of positions. */
  readonly id: string;
  /** The choices in words (`from resnet18, lr 1e-3`). */
  readonly name: string;
  readonly choices: readonly { readonly slot: string; readonly value: string }[];
  readonly text: string;
  /** An offset in `text` to the recipe's (`isEnd`: an exclusive end, kept before a seam). */
  toSource(offset: number, isEnd?: boolean): number;
}

/** `keep best N after K epochs`: every variant trains K epochs, then only the N best (validation accuracy) go on. */
export interface Keep {
  readonly best: number;
  readonly after: number;
}

export interface Expanded {
  readonly groups: readonly Group[];
  readonly keep: Keep | null;
  /** `vary together A, B`: lists (indices into groups) that take their alternatives side by side. */
  readonly together: readonly (readonly number[])[];
  /** `sample N`: the sweep holds N of the grid's `of` variants. */
  readonly sample: { readonly n: number; readonly of: number } | null;
  /** One variant (the recipe itself) when there are no lists. */
  readonly variants: readonly Variant[];
  readonly diagnostics: readonly Diagnostic[];
  /** The sweep's own lines (`keep best`, `vary together`, `sample`) in the recipe's order, for `tlr fmt`. */
  readonly lines: readonly SweepLine[];
  /** The recipe's text with those lines blanked out (every offset kept): what the lists were read from. */
  readonly text: string;
}

/** A line of the sweep's own: where it is (its comment left out) and its canonical text. */
export interface SweepLine {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The most variants one sweep may hold. */
export const MAX_VARIANTS = 1000;

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

const normal = (s: string) => s.trim().replace(/\s+/g, ' ');

/** The lists of a recipe's text, with what is wrong with them. Comments and strings are skipped. */
function scan(text: string): { groups: Group[]; diagnostics: Diagnostic[] } {
  const lines = new LineIndex(text);
  const groups: Group[] = [],
    diagnostics: Diagnostic[] = [];
  let i = 0,
    lastWord = '';
  const slotCounts = new Map<string, number>();
  while (i < text.length) {
    const c = text[i]!;
    if (c === '#') i = lineEnd(text, i);
    else if (c === '"') i = stringEnd(text, i);
    else if (c === '}') {
      diagnostics.push(diag('TLR0001', lines.span(i, i + 1), '`}` without a `{` before it'));
      i++;
    } else if (c === '{') {
      const g = readGroup(text, i, lines, diagnostics);
      if (!g) break;
      const base = SLOT_WORDS.get(lastWord) ?? 'value';
      const n = (slotCounts.get(base) ?? 0) + 1;
      slotCounts.set(base, n);
      groups.push({ ...g, slot: n === 1 ? base : `${base} (${n})` });
      i = g.end;
    } else {
      const w = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i, i + 40));
      if (w && (i === 0 || !/[A-Za-z0-9_./-]/.test(text[i - 1]!))) {
        if (SLOT_WORDS.has(w[0])) lastWord = w[0];
        i += w[0].length;
      } else i++;
    }
  }
  return { groups, diagnostics };
}

const lineEnd = (text: string, i: number) => {
  const n = text.indexOf('\n', i);
  return n < 0 ? text.length : n;
};

const withoutComments = (text: string): string => {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    const next = c === '#' ? lineEnd(text, i) : c === '"' ? stringEnd(text, i) : i + 1;
    if (c !== '#') out += text.slice(i, next);
    i = next;
  }
  return out;
};

function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"' || text[j] === '\n') return j + 1;
  }
  return text.length;
}

/** The list starting at `open`: its alternatives split at commas outside parentheses; null when it is not closed. */
function readGroup(
  text: string,
  open: number,
  lines: LineIndex,
  diagnostics: Diagnostic[],
): Omit<Group, 'slot'> | null {
  const alternatives: Alternative[] = [];
  let depth = 0,
    from = open + 1;
  const push = (end: number) => {
    const raw = text.slice(from, end),
      lead = raw.length - raw.trimStart().length;
    // Its words without comments: a comment inside a list changes neither a variant's name nor its id.
    const alt = { text: normal(withoutComments(raw)), start: from + lead, end: from + raw.trimEnd().length };
    if (!alt.text) diagnostics.push(diag('TLR0202', lines.span(from, end + 1), 'an empty alternative'));
    else alternatives.push(alt);
  };
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j]!;
    if (c === '#') j = lineEnd(text, j) - 1;
    else if (c === '"') j = stringEnd(text, j) - 1;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === '{') {
      diagnostics.push(diag('TLR0203', lines.span(j, j + 1), 'a `{` inside a list of alternatives'));
      return null;
    } else if (c === ',' && depth === 0) {
      push(j);
      from = j + 1;
    } else if (c === '}') {
      push(j);
      checkAlternatives(alternatives, lines, diagnostics);
      return { start: open, end: j + 1, alternatives };
    }
  }
  diagnostics.push(diag('TLR0201', lines.span(open, open + 1), 'this `{` is never closed with `}`'));
  return null;
}

function checkAlternatives(alts: readonly Alternative[], lines: LineIndex, diagnostics: Diagnostic[]): void {
  if (alts.length === 1)
    diagnostics.push(
      diag('TLR0205', lines.span(alts[0]!.start, alts[0]!.end), `a list of one alternative (${alts[0]!.text})`, [
        `write ${alts[0]!.text} without the braces`,
      ]),
    );
  // Numbers by value: `lr {0.001, 1e-3}` would train one plan twice.
  const seen = new Map<string, string>();
  for (const a of alts) {
    const key = /^[0-9.eE+-]+$/.test(a.text) && Number.isFinite(Number(a.text)) ? `#${Number(a.text)}` : normal(a.text);
    const before = seen.get(key);
    if (before !== undefined)
      diagnostics.push(
        diag(
          'TLR0204',
          lines.span(a.start, a.end),
          before === a.text
            ? `${a.text} is listed twice in this list`
            : `${a.text} is ${before} again: the same value twice in this list`,
        ),
      );
    else seen.set(key, a.text);
  }
}

const KEEP = /^([ \t]*)keep[ \t]+best[ \t]+(\d+)[ \t]+after[ \t]+(\d+)[ \t]+epochs?[ \t]*(#.*)?$/m;

/**
 * The sweep's `keep best N after K epochs` line, blanked out of the text (spaces keep every offset), so the variants
 * never see it: it is the sweep's, not a run's.
 */
function takeKeep(text: string): { text: string; keep: Keep | null; span: [number, number] | null } {
  const m = KEEP.exec(text);
  if (!m) return { text, keep: null, span: null };
  const start = m.index + m[1]!.length,
    end = m.index + m[0].length - (m[4]?.length ?? 0);
  return {
    text: text.slice(0, start) + ' '.repeat(end - start) + text.slice(end),
    keep: { best: Number(m[2]), after: Number(m[3]) },
    span: [start, end],
  };
}

const TOGETHER = /^([ \t]*)vary[ \t]+together[ \t]+([^#\n]*?)[ \t]*(#.*)?$/gm;
const SAMPLE = /^([ \t]*)sample[ \t]+([^\s#]+)[ \t]*(#.*)?$/m;

/** A sweep line's span (comment left out), blanked out of the text with spaces so every offset stays. */
function blank(
  text: string,
  m: RegExpExecArray,
  comment: string | undefined,
): { text: string; span: [number, number] } {
  const start = m.index + m[1]!.length,
    end = m.index + m[0].length - (comment?.length ?? 0);
  return { text: text.slice(0, start) + ' '.repeat(end - start) + text.slice(end), span: [start, end] };
}

interface SweepLines {
  readonly text: string;
  readonly together: { readonly slots: string[]; readonly span: [number, number] }[];
  readonly sample: { readonly n: number; readonly written: string; readonly span: [number, number] } | null;
}

/** `vary together A, B` lines and a `sample N` line, taken out of the text as `keep` is. */
function takeShapeLines(source: string): SweepLines {
  let text = source;
  const together: SweepLines['together'] = [];
  for (const m of [...source.matchAll(TOGETHER)]) {
    const b = blank(text, m as RegExpExecArray, m[3]);
    text = b.text;
    together.push({ slots: m[2]!.split(',').map(normal).filter(Boolean), span: b.span });
  }
  const m = SAMPLE.exec(text);
  if (!m) return { text, together, sample: null };
  const b = blank(text, m, m[3]);
  // Not a whole number (`sample -1`, `sample 2.5`): n is 0, which expand reports as "sample takes a number from 1".
  return {
    text: b.text,
    together,
    sample: { n: /^\d+$/.test(m[2]!) ? Number(m[2]) : 0, written: m[2]!, span: b.span },
  };
}

/**
 * The axes of the grid: each `vary together` line joins its lists into one axis (they must be as long as each other);
 * every other list is an axis of its own. Problems are diagnostics at the line.
 */
function axesOf(groups: readonly Group[], lines: SweepLines, source: LineIndex, diagnostics: Diagnostic[]): number[][] {
  const joined = new Set<number>();
  const axes: number[][] = [];
  for (const t of lines.together) {
    const at = source.span(t.span[0], t.span[1]);
    const idx: number[] = [];
    for (const [k, slot] of t.slots.entries()) {
      if (t.slots.indexOf(slot) !== k) {
        diagnostics.push(diag('TLR0210', at, `vary together names ${slot} twice; name each list once`));
        continue;
      }
      const found = groups.flatMap((g, i) => (g.slot === slot && !joined.has(i) ? [i] : []));
      if (found.length !== 1) {
        const all = [...new Set(groups.map((g) => g.slot))].join(', ');
        diagnostics.push(
          diag(
            'TLR0210',
            at,
            found.length
              ? `vary together ${slot}: ${found.length} lists vary ${slot}; vary together names each list once, by a slot only one list varies`
              : `vary together ${slot}: no list varies ${slot} (lists vary: ${all || 'nothing'})`,
          ),
        );
        continue;
      }
      idx.push(found[0]!);
      joined.add(found[0]!);
    }
    const sizes = idx.map((i) => groups[i]!.alternatives.length);
    if (idx.length < 2 && !diagnostics.some((d) => d.code === 'TLR0210'))
      diagnostics.push(
        diag('TLR0210', at, 'vary together takes at least two lists, by their slots: vary together from, input'),
      );
    else if (new Set(sizes).size > 1)
      diagnostics.push(
        diag(
          'TLR0211',
          at,
          `vary together ${idx.map((i) => groups[i]!.slot).join(', ')}: the lists have ${sizes.join(', ')} ` +
            'alternatives; lists varied together take theirs side by side, so they need as many each',
        ),
      );
    if (idx.length) axes.push(idx.sort((a, b) => a - b));
  }
  groups.forEach((_, i) => {
    if (!joined.has(i)) axes.push([i]);
  });
  return axes.sort((a, b) => a[0]! - b[0]!);
}

/**
 * The most variants `sample N` draws from. Sampling computes every variant's id (a hash of its choices, not its
 * text), so the grid it draws from is bounded too: five lists of 40 make 102 million, which no editor should hash.
 */
export const MAX_SAMPLED_GRID = 100_000;

/** Grid point n's alternative in each list (the last axis varies fastest; lists varied together move as one). */
function pickAt(n: number, axes: readonly number[][], groups: readonly Group[]): number[] {
  const pick = new Array<number>(groups.length).fill(0);
  let rest = n;
  for (let a = axes.length - 1; a >= 0; a--) {
    const size = groups[axes[a]![0]!]!.alternatives.length;
    for (const g of axes[a]!) pick[g] = rest % size;
    rest = Math.floor(rest / size);
  }
  return pick;
}

/**
 * The grid points a sweep runs, in grid order. `sample N`: the N whose ids come first in sorted order. The ids are
 * hashes of the choices, so this is a spread-out choice that stays the same when the recipe is reordered or
 * reformatted; only ids are computed, never the other variants' texts.
 */
function gridPicks(grid: number, axes: readonly number[][], groups: readonly Group[], n: number | null): number[][] {
  const picks = Array.from({ length: grid }, (_, i) => pickAt(i, axes, groups));
  const ids = picks.map((p) => variantId(groups.map((g, i) => ({ slot: g.slot, value: g.alternatives[p[i]!]!.text }))));
  if (new Set(ids).size !== ids.length)
    throw new Error('two variants of one sweep got the same id; report this to tlr');
  if (n === null) return picks;
  const kept = new Set([...ids].sort().slice(0, n));
  return picks.filter((_, i) => kept.has(ids[i]!));
}

/** The recipe's variants (its lists' cross product, in the order written: the last list varies fastest). */
export function expand(source: string): Expanded {
  const kept = takeKeep(source);
  const { keep, span } = kept;
  const shape = takeShapeLines(kept.text);
  const text = shape.text;
  const { groups, diagnostics } = scan(text);
  const axes = groups.length ? axesOf(groups, shape, new LineIndex(source), diagnostics) : [];
  const together = axes.filter((a) => a.length > 1);
  const grid = axes.reduce((n, a) => n * groups[a[0]!]!.alternatives.length, 1);
  if ((shape.together.length || shape.sample) && !groups.length) {
    const first = shape.together[0]?.span ?? shape.sample!.span;
    diagnostics.push(
      diag(
        'TLR0210',
        new LineIndex(source).span(first[0], first[1]),
        'vary together and sample belong to a sweep, and this recipe has no list of alternatives',
      ),
    );
  }
  if (shape.sample && groups.length && (shape.sample.n < 1 || shape.sample.n >= grid)) {
    const at = new LineIndex(source).span(shape.sample.span[0], shape.sample.span[1]);
    diagnostics.push(
      shape.sample.n < 1
        ? diag(
            'TLR0210',
            at,
            `sample ${shape.sample.written}: sample takes a whole number from 1 (how many variants to run)`,
          )
        : diag('TLR0212', at, `sample ${shape.sample.n} of ${grid} variants keeps them all`),
    );
  }
  const sample = shape.sample && shape.sample.n >= 1 ? { n: Math.min(shape.sample.n, grid), of: grid } : null;
  if (keep) {
    const lines = new LineIndex(source);
    const count = sample ? sample.n : grid;
    if (!groups.length || keep.best < 1 || keep.after < 1)
      diagnostics.push(
        diag(
          'TLR0208',
          lines.span(span![0], span![1]),
          groups.length
            ? `keep best ${keep.best} after ${keep.after} epochs: both numbers must be at least 1`
            : 'keep best … after … epochs belongs to a sweep, and this recipe has no list of alternatives',
        ),
      );
    else if (keep.best >= count)
      diagnostics.push(
        diag('TLR0209', lines.span(span![0], span![1]), `keep best ${keep.best} of ${count} variants stops none early`),
      );
  }
  const shaped = { groups, keep, together, sample, text, lines: sweepLines(kept, shape) };
  if (!groups.length || diagnostics.some((d) => d.severity === 'error'))
    return {
      ...shaped,
      variants:
        groups.length || keep || shape.together.length || shape.sample || diagnostics.length ? [] : [plain(text)],
      diagnostics,
    };
  const count = grid;
  if ((sample ? sample.n : count) > MAX_VARIANTS || (sample && count > MAX_SAMPLED_GRID)) {
    const lines = new LineIndex(text);
    const most =
      sample && count > MAX_SAMPLED_GRID
        ? `sample draws from at most ${MAX_SAMPLED_GRID.toLocaleString('en-US')}`
        : `a sweep holds at most ${MAX_VARIANTS}`;
    return {
      ...shaped,
      variants: [],
      diagnostics: [
        ...diagnostics,
        diag(
          'TLR0207',
          lines.span(groups[0]!.start, groups.at(-1)!.end),
          `the lists make ${count.toLocaleString('en-US')} variants; ${most}`,
        ),
      ],
    };
  }
  const variants = gridPicks(count, axes, groups, sample?.n ?? null).map((p) => variantOf(text, groups, p));
  return { ...shaped, variants, diagnostics };
}

/** The sweep's lines in canonical words, in the recipe's order. */
function sweepLines(kept: ReturnType<typeof takeKeep>, shape: SweepLines): SweepLine[] {
  const at = (span: [number, number], text: string) => ({ start: span[0], end: span[1], text });
  return [
    ...(kept.keep && kept.span
      ? [at(kept.span, `keep best ${kept.keep.best} after ${kept.keep.after} epoch${kept.keep.after === 1 ? '' : 's'}`)]
      : []),
    ...shape.together.map((t) => at(t.span, `vary together ${t.slots.join(', ')}`)),
    ...(shape.sample ? [at(shape.sample.span, `sample ${shape.sample.n}`)] : []),
  ].sort((a, b) => a.start - b.start);
}

/** The variant of alternative pick[g] of each list g (the first where pick has none): `tlr fmt` lays out the first. */
export const variantAt = (e: Expanded, pick: readonly number[] = []): Variant =>
  e.groups.length
    ? variantOf(
        e.text,
        e.groups,
        e.groups.map((_, g) => pick[g] ?? 0),
      )
    : plain(e.text);

function plain(text: string): Variant {
  return { id: variantId([]), name: 'the recipe', choices: [], text, toSource: (o) => o };
}

/** The text with list g replaced by its alternative pick[g], and the map back to the recipe's offsets. */
function variantOf(text: string, groups: readonly Group[], pick: readonly number[]): Variant {
  const segments: { at: number; from: number; length: number }[] = [];
  let out = '',
    last = 0;
  const copy = (from: number, to: number) => {
    segments.push({ at: out.length, from, length: to - from });
    out += text.slice(from, to);
  };
  const choices = groups.map((g, i) => {
    const alt = g.alternatives[pick[i]!]!;
    copy(last, g.start);
    copy(alt.start, alt.end);
    last = g.end;
    return { slot: g.slot, value: alt.text };
  });
  copy(last, text.length);
  return {
    id: variantId(choices),
    name: choices.map((c) => `${c.slot} ${c.value}`).join(', '),
    choices,
    text: out,
    toSource(offset: number, isEnd = false): number {
      // An end (exclusive) at a seam belongs to the piece before it: `block9` ends before the `}`.
      for (let i = segments.length - 1; i >= 0; i--) {
        const s = segments[i]!;
        if (isEnd ? offset > s.at : offset >= s.at) return s.from + Math.min(offset - s.at, s.length);
      }
      return offset;
    },
  };
}

/**
 * A variant's id: 8 hex digits of a hash of its choices, sorted, so order and layout do not change it. FNV-1a (32
 * bits) rather than node:crypto: the compiler also runs in the playground's page.
 */
export function variantId(choices: readonly { slot: string; value: string }[]): string {
  const key = JSON.stringify(choices.map((c) => `${c.slot}=${normal(c.value)}`).sort());
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** A diagnostic of a variant's text, placed in the recipe's text. */
export function toRecipe(d: Diagnostic, v: Variant, lines: LineIndex): Diagnostic {
  return { ...d, span: lines.span(v.toSource(d.span.start.offset), v.toSource(d.span.end.offset, true)) };
}

/** The error for a command that takes one recipe, given a sweep: at its first list (or its keep line). */
export function refuseSweep(e: Expanded, text: string): Diagnostic[] {
  const g = e.groups[0];
  if (!g) return [];
  return [
    diag(
      'TLR0206',
      new LineIndex(text).span(g.start, g.end),
      `this recipe is a sweep of ${e.variants.length || 'several'} variants; this command takes one recipe`,
    ),
  ];
}
