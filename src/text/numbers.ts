// Text that both the plain reporter (cli/) and the live view (ui/) show: numbers as people write them.
/** A learning rate as people write it: 0.003, 1e-5. */
export const formatLr = (n: number): string =>
  n < 1e-3 ? n.toExponential(1).replace('.0e', 'e').replace('e-0', 'e-') : String(+n.toPrecision(3));

/** A stage's rate as a recipe writes it: `auto`, `LOW..HIGH` (a rate per block) or one rate. */
export const stageLr = (lr: {
  readonly initial: number;
  readonly auto?: true;
  readonly blocks?: readonly { readonly lr: number }[];
}): string =>
  lr.auto
    ? 'auto'
    : lr.blocks?.length
      ? `${formatLr(lr.blocks[0]!.lr)}..${formatLr(lr.initial)}`
      : formatLr(lr.initial);

/** A number with `d` decimals, or n/a for a value a run could not compute (null, NaN). */
export const fixed = (v: number | null | undefined, d: number): string =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : 'n/a';

/** `n` and the word, plural unless n is 1. */
export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;
/** A whole number with thousands separators. */
export const fmtInt = (n: number): string => n.toLocaleString('en-US');
