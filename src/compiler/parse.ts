import type { Comment } from './ast.js';
import { tokenMatcher, type CstNode, type IRecognitionException, type IToken } from 'chevrotain';
import { Identifier, Keyword, LBrace, lexer } from './lexer.js';
import { parser } from './grammar.js';
import { byPosition, diag, type Diagnostic } from './diagnostics.js';
import { LineIndex } from './source.js';
import { CLAUSES, kindsOf, USAGE } from './clauses.js';
import { nearClauseWord, STATEMENT_HINT, STATEMENT_STARTS } from './clause-words.js';
import { didYouMean, distance, nearest } from './check/suggest.js';

export type { Comment };
export interface Parsed {
  readonly text: string;
  readonly lines: LineIndex;
  readonly cst: CstNode;
  readonly comments: readonly Comment[];
  readonly diagnostics: readonly Diagnostic[];
}

export { USAGE } from './clauses.js';

/** Tokens a statement can start with: after a token that starts none, parsing resumes at the next. */
const startsStatement = (t: IToken) => STATEMENT_STARTS.has(t.image) && tokenMatcher(t, Keyword);

/** The clause words nearest to a word that starts no statement (`freez` → `freeze`). */
const nearestClause = (word: string): string[] => {
  const near = nearest(word, [...STATEMENT_STARTS]);
  const best = near.length ? distance(word, near[0]!) : 0;
  return didYouMean(
    word,
    near.filter((n) => distance(word, n) === best),
  );
};

/** One syntax error as a diagnostic, with the usage line of the statement it is in. */
export function syntaxDiagnostic(e: IRecognitionException, lines: LineIndex, text: string): Diagnostic {
  const tok: IToken = e.token;
  const span =
    tok.tokenType.name === 'EOF' || Number.isNaN(tok.startOffset)
      ? lines.span(text.length, text.length)
      : lines.span(tok.startOffset, tok.endOffset! + 1);
  const rule = [...e.context.ruleStack]
    .reverse()
    .find((r) => r !== 'location' && r !== 'dataLocation' && r !== 'arg' && USAGE[r]);
  const hints =
    e.name === 'NotAllInputParsedException' || e.message.includes('does not start')
      ? [STATEMENT_HINT]
      : rule
        ? [`write ${USAGE[rule]}`]
        : [];
  return diag('TLR0101', span, e.message, hints);
}

/** The word that starts the stray token's line, when it is a misspelt clause word the statement above took in. */
function misspeltAbove(tokens: readonly IToken[], at: number): IToken | null {
  const t = tokens[at]!;
  for (let i = at - 1; i >= 0; i--) {
    const w = tokens[i]!;
    if (w.startLine !== t.startLine) return null;
    const first = i === 0 || tokens[i - 1]!.endLine! < w.startLine!;
    if (first) return w.tokenType === Identifier && nearestClause(w.image).length > 0 ? w : null;
  }
  return null;
}

/** Words the sweep's own clauses start with (compiler/sweep.ts reads them). */
const SWEEP_WORDS = kindsOf('sweep').map((k) => CLAUSES[k].words.split(' ')[0]!);

/**
 * A file that does not start like a recipe, as one diagnostic on its first character that quotes nothing of it, or
 * null. A recipe starts (after blank lines and comments) with a clause word, a misspelling of one, a sweep's word or
 * a list of alternatives; a link to .git/config (`[core]`), a key (`-----BEGIN`), JSON or a shell script does not,
 * and a code frame or a "did you mean" would print its lines into a CI log.
 */
export function notARecipe(text: string): Diagnostic | null {
  const first = lexer.tokenize(text.slice(0, 4096));
  const stray = first.errors[0],
    t = first.tokens[0];
  let startsLikeRecipe: boolean;
  if (stray && (!t || stray.offset < t.startOffset)) startsLikeRecipe = false;
  else if (t?.tokenType === LBrace)
    // A list of alternatives of words (`{freeze all, …}`), not JSON's `{"key": …}`.
    startsLikeRecipe =
      !!first.tokens[1] && (tokenMatcher(first.tokens[1], Identifier) || tokenMatcher(first.tokens[1], Keyword));
  else if (!t)
    return null; // empty, or comments only
  else
    startsLikeRecipe =
      STATEMENT_STARTS.has(t.image) ||
      SWEEP_WORDS.includes(t.image) ||
      (t.tokenType === Identifier && nearClauseWord(t.image));
  if (startsLikeRecipe) return null;
  const lines = new LineIndex(text);
  return diag(
    'TLR0002',
    lines.span(0, 0),
    'this file does not start like a recipe (a clause word such as `from` or `recipe`), so it is not read as one',
    ['check that you named the right file; tlr quotes nothing from a file that is not a recipe'],
  );
}

/** A recipe's tokens, comments and lexing errors: the one scan of its text, which its variants share. */
export interface Lexed {
  readonly text: string;
  readonly lines: LineIndex;
  readonly tokens: readonly IToken[];
  readonly comments: readonly Comment[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Text to tokens; a character no token starts with is a diagnostic, and lexing goes on after it. */
export function lex(text: string): Lexed {
  const lines = new LineIndex(text);
  const lexed = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) => {
    const ch = text.slice(e.offset, e.offset + e.length);
    const hints = ch.startsWith('"')
      ? ['close the string with " on the same line']
      : ch.startsWith('-')
        ? ['numbers in recipes are never negative']
        : [];
    return diag(
      'TLR0001',
      lines.span(e.offset, e.offset + e.length),
      `unexpected ${ch.startsWith('"') ? 'unterminated string' : `character${e.length > 1 ? 's' : ''} '${ch}'`}`,
      hints,
    );
  });
  const comments = (lexed.groups['comments'] ?? []).map((t) => ({
    text: t.image.replace(/\s+$/, ''),
    span: lines.span(t.startOffset, t.endOffset! + 1),
  }));
  return { text, lines, tokens: lexed.tokens, comments, diagnostics };
}

/** Text to CST, for a recipe without lists of alternatives (a sweep's variants: `parseTokens`). */
export function parse(text: string): Parsed {
  const foreign = notARecipe(text);
  if (foreign) {
    const lines = new LineIndex(text);
    return { text, lines, cst: { name: 'recipe', children: { statement: [] } }, comments: [], diagnostics: [foreign] };
  }
  const lexed = lex(text);
  return parseTokens(lexed, lexed.tokens, lexed.diagnostics);
}

/**
 * Tokens to CST: the recipe's tokens, or a variant's (the recipe's with one alternative of each list in place), so
 * every span is the recipe's own. Syntax errors become diagnostics; the parser recovers and reports all it can: inside
 * a statement by Chevrotain's own recovery, and at a word that starts no statement (`freez all`) by reporting it with
 * the nearest clause word and parsing on from the next statement.
 */
export function parseTokens(lexed: Lexed, all: readonly IToken[], before: readonly Diagnostic[] = []): Parsed {
  const { text, lines } = lexed;
  const diagnostics = [...before];
  const statements: CstNode[] = [];
  let tokens = all as IToken[];
  for (;;) {
    parser.input = tokens;
    const cst = parser.recipe();
    statements.push(...((cst.children['statement'] ?? []) as CstNode[]));
    // A token where a statement should start (outside every statement rule): a misspelled clause word.
    const stray = parser.errors.find(
      (e) =>
        e.name === 'NotAllInputParsedException' ||
        (e.context.ruleStack.length <= 1 && !Number.isNaN(e.token.startOffset) && e.token.tokenType.name !== 'EOF'),
    );
    for (const e of parser.errors) if (e !== stray) diagnostics.push(syntaxDiagnostic(e, lines, text));
    if (!stray) break;
    const t = stray.token,
      at = tokens.indexOf(t);
    if (at < 0) {
      diagnostics.push(syntaxDiagnostic(stray, lines, text));
      break;
    }
    // A misspelt clause word right after a value (`lr 0.003` then `optimiser adam`) is read into the statement before
    // it (as the rate's schedule); its own argument is then the stray word. The misspelling is what to name.
    const misspelt = misspeltAbove(tokens, at);
    const word = misspelt ?? t;
    diagnostics.push(
      diag('TLR0101', lines.span(word.startOffset, word.endOffset! + 1), `'${word.image}' does not start a statement`, [
        ...nearestClause(word.image),
        STATEMENT_HINT,
      ]),
    );
    // Parsing goes on at the next word that starts a statement, or looks like a misspelled one.
    const next = tokens.findIndex(
      (x, i) => i > at && (startsStatement(x) || (x.tokenType === Identifier && nearestClause(x.image).length > 0)),
    );
    if (next < 0) break;
    tokens = tokens.slice(next);
  }
  const cst: CstNode = { name: 'recipe', children: { statement: statements } };
  return { text, lines, cst, comments: lexed.comments, diagnostics: diagnostics.sort(byPosition) };
}
