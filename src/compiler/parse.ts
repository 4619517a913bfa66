import type { CstNode, IToken } from 'chevrotain';
import { lexer } from './lexer.js';
import { parser } from './grammar.js';
import { byPosition, diag, type Diagnostic } from './diagnostics.js';
import { LineIndex, type Span } from './source.js';
import { STATEMENT_HINT, USAGE } from './clauses.js';

export interface Comment {
  readonly text: string;
  readonly span: Span;
}

export interface Parsed {
  readonly text: string;
  readonly lines: LineIndex;
  readonly cst: CstNode;
  readonly comments: readonly Comment[];
  readonly diagnostics: readonly Diagnostic[];
}

export { USAGE } from './clauses.js';

/** Text to CST. Lexing and syntax errors become diagnostics; the parser recovers and reports all it can. */
export function parse(text: string): Parsed {
  const lines = new LineIndex(text);
  const lexed = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) => {
    const ch = text.slice(e.offset, e.offset + e.length);
    const hints = ch.startsWith('"') ? ['close the string with " on the same line'] : ch.startsWith('-') ? ['numbers in recipes are never negative'] : [];
    return diag('TLR0001', lines.span(e.offset, e.offset + e.length), `unexpected ${ch.startsWith('"') ? 'unterminated string' : `character${e.length > 1 ? 's' : ''} '${ch}'`}`, hints);
  });
  parser.input = lexed.tokens;
  const cst = parser.recipe();
  for (const e of parser.errors) {
    const tok: IToken = e.token;
    const span = tok.tokenType.name === 'EOF' || Number.isNaN(tok.startOffset)
      ? lines.span(text.length, text.length)
      : lines.span(tok.startOffset, tok.endOffset! + 1);
    const rule = [...e.context.ruleStack].reverse().find((r) => r !== 'location' && r !== 'arg' && USAGE[r]);
    const hints = e.name === 'NotAllInputParsedException' || e.message.includes('does not start') ? [STATEMENT_HINT] : rule ? [`write ${USAGE[rule]}`] : [];
    diagnostics.push(diag('TLR0101', span, e.message, hints));
  }
  const comments = (lexed.groups['comments'] ?? []).map((t) => ({ text: t.image.replace(/\s+$/, ''), span: lines.span(t.startOffset, t.endOffset! + 1) }));
  return { text, lines, cst, comments, diagnostics: diagnostics.sort(byPosition) };
}
