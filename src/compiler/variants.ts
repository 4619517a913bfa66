import type { IToken } from 'chevrotain';
import type { Statement } from './ast.js';
import { diag, type Diagnostic } from './diagnostics.js';
import { lex, type Lexed } from './parse.js';
import { normal, readSweep, type Alternative, type Group, type SweepRead } from './sweep.js';

// Variants: a value written as a list of alternatives, `lr {1e-3, 3e-4}`, makes the recipe a sweep, one variant for
// each choice of one alternative per list (the cross product). The grammar reads the lists (compiler/sweep.ts); a
// variant is the recipe's tokens with every list replaced by one alternative's, which `parseTokens` reads like any
// recipe. Tokens keep their offsets, so every span of a variant is the recipe's own.

export type { Alternative, Group };

/** One variant: an alternative of each list. */
export interface Variant {
  /** Stable when the recipe is reordered or reformatted: a hash of the choices, not of positions. */
  readonly id: string;
  /** The choices in words (`from resnet18, lr 1e-3`). */
  readonly name: string;
  readonly choices: readonly { readonly slot: string; readonly value: string }[];
  /** Its tokens, with the recipe's offsets. */
  readonly tokens: readonly IToken[];
  /** Its text: the recipe with each list's alternative in place and the sweep's clauses blanked out. */
  readonly text: string;
}

/** `keep best N after K epochs`: every variant trains K epochs, then only the N best (validation accuracy) go on. */
export interface Keep {
  readonly best: number;
  readonly after: number;
}

export interface Expanded {
  /** The recipe's one scan: its tokens and comments, which every variant shares. */
  readonly lexed: Lexed;
  readonly groups: readonly Group[];
  /** Whether the recipe writes a list or a sweep's clause (a broken list leaves no group). */
  readonly written: boolean;
  readonly keep: Keep | null;
  /** `vary together A, B`: lists (indices into groups) that take their alternatives side by side. */
  readonly together: readonly (readonly number[])[];
  /** `sample N`: the sweep holds N of the grid's `of` variants. */
  readonly sample: { readonly n: number; readonly of: number } | null;
  /** One variant (the recipe itself) when there are no lists. */
  readonly variants: readonly Variant[];
  readonly diagnostics: readonly Diagnostic[];
  /** The sweep's own clauses (`keep best`, `vary together`, `sample`) in the recipe's order, for `tlr fmt`. */
  readonly clauses: readonly Statement[];
  /** The recipe's tokens without the sweep's clauses: what every variant is made of. */
  readonly tokens: readonly IToken[];
  /** The recipe's text. */
  readonly text: string;
}

/** The most variants one sweep may hold. */
export const MAX_VARIANTS = 1000;

/**
 * The axes of the grid: each `vary together` line joins its lists into one axis (they must be as long as each other);
 * every other list is an axis of its own. Problems are diagnostics at the line.
 */
function axesOf(groups: readonly Group[], read: SweepRead, diagnostics: Diagnostic[]): number[][] {
  const joined = new Set<number>();
  const axes: number[][] = [];
  for (const t of read.together) {
    const at = t.span;
    const slots = t.slots.map((n) => normal(n.text));
    const idx: number[] = [];
    for (const [k, slot] of slots.entries()) {
      if (slots.indexOf(slot) !== k) {
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
              ? `vary together ${slot}: ${found.length} lists vary ${slot}; vary together names each list once, ` +
                  `by a slot only one list varies`
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
  const lexed = lex(source);
  const read = readSweep(lexed);
  const { groups } = read;
  const diagnostics = [...read.diagnostics];
  const axes = groups.length ? axesOf(groups, read, diagnostics) : [];
  const loose = read.together[0] ?? read.sample;
  if (loose && !groups.length && read.written && !read.diagnostics.some((d) => d.severity === 'error'))
    diagnostics.push(
      diag(
        'TLR0210',
        loose.span,
        'vary together and sample belong to a sweep, and this recipe has no list of alternatives',
      ),
    );
  const grid = axes.reduce((n, a) => n * groups[a[0]!]!.alternatives.length, 1);
  const sample = sampleOf(read, grid, diagnostics);
  const keep = keepOf(read, sample ? sample.n : grid, diagnostics);
  const shaped = {
    lexed,
    groups,
    written: read.written,
    keep,
    together: axes.filter((a) => a.length > 1),
    sample,
    clauses: read.clauses,
    tokens: read.tokens,
    text: source,
  };
  if (!groups.length || diagnostics.some((d) => d.severity === 'error'))
    return { ...shaped, variants: read.written || diagnostics.length ? [] : [plain(read, source)], diagnostics };
  if ((sample ? sample.n : grid) > MAX_VARIANTS || (sample && grid > MAX_SAMPLED_GRID)) {
    const most =
      sample && grid > MAX_SAMPLED_GRID
        ? `sample draws from at most ${MAX_SAMPLED_GRID.toLocaleString('en-US')}`
        : `a sweep holds at most ${MAX_VARIANTS}`;
    const at = lexed.lines.span(groups[0]!.start, groups.at(-1)!.end);
    diagnostics.push(diag('TLR0207', at, `the lists make ${grid.toLocaleString('en-US')} variants; ${most}`));
    return { ...shaped, variants: [], diagnostics };
  }
  const variants = gridPicks(grid, axes, groups, sample?.n ?? null).map((p) => variantOf(read, source, p));
  return { ...shaped, variants, diagnostics };
}

/** `sample N`, checked against the grid: null when there is none or N is not a whole number from 1. */
function sampleOf(read: SweepRead, grid: number, out: Diagnostic[]): Expanded['sample'] {
  const s = read.sample;
  if (!s) return null;
  if (!read.groups.length) return null;
  // As written up to the count's end, so that `sample -1` (a `-` no token starts) reads as -1, not as 1.
  const written = s.count ? read.text.slice(s.keyword.end.offset, s.count.span.end.offset).trim() : '';
  const n = /^\d+$/.test(written) ? Number(written) : 0;
  if (n < 1)
    out.push(
      diag(
        'TLR0210',
        s.span,
        `sample ${written}: sample takes a whole number from 1 (how many variants to run)`.replace(
          'sample : ',
          'sample: ',
        ),
      ),
    );
  else if (n >= grid) out.push(diag('TLR0212', s.span, `sample ${n} of ${grid} variants keeps them all`));
  return n >= 1 ? { n: Math.min(n, grid), of: grid } : null;
}

/** `keep best N after K epochs`, checked against the number of variants. */
function keepOf(read: SweepRead, count: number, out: Diagnostic[]): Keep | null {
  const k = read.keep;
  if (!k) return null;
  const keep = { best: k.best.value, after: k.after.value };
  if (!read.groups.length || keep.best < 1 || keep.after < 1)
    out.push(
      diag(
        'TLR0208',
        k.span,
        read.groups.length
          ? `keep best ${k.best.text} after ${k.after.text} epochs: both numbers must be at least 1`
          : 'keep best … after … epochs belongs to a sweep, and this recipe has no list of alternatives',
      ),
    );
  else if (keep.best >= count)
    out.push(diag('TLR0209', k.span, `keep best ${keep.best} of ${count} variants stops none early`));
  return keep;
}

/** The variant of alternative pick[g] of each list g (the first where pick has none): `tlr fmt` lays out the first. */
export const variantAt = (e: Expanded, pick: readonly number[] = []): Variant =>
  e.groups.length
    ? variantOf(
        e,
        e.text,
        e.groups.map((_, g) => pick[g] ?? 0),
      )
    : plain(e, e.text);

function plain(read: Pick<SweepRead, 'tokens'>, text: string): Variant {
  return { id: variantId([]), name: 'the recipe', choices: [], tokens: read.tokens, text };
}

/** The tokens (and text) with list g replaced by its alternative pick[g]. */
function variantOf(
  read: Pick<SweepRead, 'groups' | 'tokens' | 'clauses'>,
  source: string,
  pick: readonly number[],
): Variant {
  const chosen = read.groups.map((g, i) => ({ g, alt: g.alternatives[pick[i]!]! }));
  const tokens: IToken[] = [];
  let next = 0;
  for (const t of read.tokens) {
    const at = chosen.find((c) => c.g.start <= t.startOffset && t.startOffset < c.g.end);
    if (!at) tokens.push(t);
    else if (at.g.start === t.startOffset) tokens.push(...at.alt.tokens);
  }
  // The sweep's clauses blanked with spaces (their lines stay), then each list replaced by its alternative.
  const blanked = read.clauses.reduce(
    (t, c) =>
      t.slice(0, c.span.start.offset) +
      t.slice(c.span.start.offset, c.span.end.offset).replace(/[^\n]/g, ' ') +
      t.slice(c.span.end.offset),
    source,
  );
  let text = '';
  for (const { g, alt } of chosen) {
    text += blanked.slice(next, g.start) + blanked.slice(alt.start, alt.end);
    next = g.end;
  }
  text += blanked.slice(next);
  const choices = chosen.map(({ g, alt }) => ({ slot: g.slot, value: alt.text }));
  return {
    id: variantId(choices),
    name: choices.map((c) => `${c.slot} ${c.value}`).join(', '),
    choices,
    tokens,
    text,
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

/** The error for a command that takes one recipe, given a sweep: at its first list (or its keep line). */
export function refuseSweep(e: Expanded): Diagnostic[] {
  const g = e.groups[0];
  if (!g) return [];
  return [
    diag(
      'TLR0206',
      e.lexed.lines.span(g.start, g.end),
      `this recipe is a sweep of ${e.variants.length || 'several'} variants; this command takes one recipe`,
    ),
  ];
}
