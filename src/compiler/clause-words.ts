import { distance } from './check/suggest.js';
import { CLAUSES, STATEMENT_KINDS } from './clauses.js';

// The words statements start with, from the clause table: what the parser's gates test a word against, and what a
// syntax error between statements lists.

/** The words a statement starts with (a clause's first word). */
export const STATEMENT_STARTS: ReadonlySet<string> = new Set(
  STATEMENT_KINDS.map((k) => CLAUSES[k].words.split(' ')[0]!),
);

/**
 * Whether a word is a clause's first word mistyped: lower case, one edit or one swap of neighbours away (`form`), or
 * two edits for a long word. Stricter than "did you mean": `TOKEN=` or `token =` is not a recipe's word.
 */
export function nearClauseWord(word: string): boolean {
  if (!/^[a-z]+$/.test(word)) return false;
  const swapped = (a: string, b: string) =>
    a.length === b.length &&
    [...a].filter((c, i) => c !== b[i]).length === 2 &&
    [...a].sort().join() === [...b].sort().join();
  return [...STATEMENT_STARTS].some((w) => distance(word, w) <= (word.length >= 6 ? 2 : 1) || swapped(word, w));
}

/** What a statement may start with, for a syntax error between statements. */
export const STATEMENT_HINT = `a statement starts with ${STATEMENT_KINDS.slice(0, -1)
  .map((k) => CLAUSES[k].words.replace(/ on$/, ''))
  .join(', ')} or ${CLAUSES[STATEMENT_KINDS[STATEMENT_KINDS.length - 1]!].words}`;
