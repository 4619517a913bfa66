import type { IToken } from 'chevrotain';
import { nearClauseWord } from './clause-words.js';
import * as T from './lexer.js';

// The grammar's gates: what a token's line says about where a statement ends, which the grammar cannot say by its
// tokens alone (a recipe has no statement terminator).

/**
 * Whether a word a statement may take goes on with it: on the same line, or not a clause word mistyped on a line of
 * its own (`lr 0.003` then `optimiser adam`: the typo starts a statement, which the parser then names).
 */
export const goesOn = (before: IToken, next: IToken): boolean =>
  next.tokenType !== T.Identifier || before.endLine === next.startLine || !nearClauseWord(next.image);

/** The next words (`next`), the first of them the first on its line (the sweep's word never ends another clause). */
export const startsLine = (before: IToken, next: readonly IToken[], words: readonly string[]): boolean =>
  words.every((w, i) => next[i]!.image === w && next[i]!.tokenType === T.Identifier) &&
  (before.tokenType.name === 'EOF' || Number.isNaN(before.startOffset) || before.endLine! < next[0]!.startLine!);

/** Whether `next` is on `t`'s line. */
export const nextOnLineOf = (t: IToken, next: IToken): boolean =>
  next.tokenType.name !== 'EOF' && next.startLine === t.startLine;
