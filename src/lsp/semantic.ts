import { tokenMatcher, type IToken } from 'chevrotain';
import * as T from '../compiler/lexer.js';
import { ACTIVATIONS, HEAD_KINDS } from '../zoo/head-layers.js';
import { MODEL_NAMES } from '../zoo/catalog.js';
import { AUGMENTATIONS, METRIC_ALIASES, METRICS, OPTIMIZERS, SCHEDULES } from '../compiler/check/training.js';
import type { Doc } from './document.js';

// Semantic tokens: colours for editors without the TextMate grammar (Neovim, Emacs, Helix), from the recipe's own
// tokens (the compiler's lexer) and the zoo's and checker's word lists: clause words, networks, the words a clause
// takes (optimizers, schedules, head layers, metrics, augmentations), numbers, strings and paths, comments.

/** The token types, in the order their indices refer to (the legend the server announces). */
export const SEMANTIC_TYPES = ['keyword', 'class', 'enumMember', 'variable', 'number', 'string', 'comment'] as const;
export const SEMANTIC_LEGEND = { tokenTypes: [...SEMANTIC_TYPES], tokenModifiers: [] as string[] };

type Kind = (typeof SEMANTIC_TYPES)[number];
const WORDS = new Set<string>([
  ...OPTIMIZERS,
  ...SCHEDULES,
  ...HEAD_KINDS,
  ...ACTIVATIONS,
  ...METRICS,
  ...Object.keys(METRIC_ALIASES),
  ...AUGMENTATIONS,
]);
const NETWORKS = new Set<string>(MODEL_NAMES);

function kindOf(t: IToken): Kind | null {
  if (tokenMatcher(t, T.Keyword)) return 'keyword';
  if (t.tokenType === T.NumberLit || t.tokenType === T.Ratio) return 'number';
  if ([T.StringLit, T.PathLit, T.RelPath, T.Url].includes(t.tokenType)) return 'string';
  if (t.tokenType === T.Identifier)
    return NETWORKS.has(t.image) ? 'class' : WORDS.has(t.image) ? 'enumMember' : 'variable';
  return null;
}

/** The document's semantic tokens in LSP's relative encoding: line and start deltas, length, type, modifiers. */
export function semanticTokens(doc: Doc): { data: number[] } {
  const lexed = doc.expanded.lexed;
  const marks = [
    ...lexed.tokens.flatMap((t) => {
      const kind = kindOf(t);
      return kind && t.startLine === t.endLine
        ? [{ line: t.startLine! - 1, char: t.startColumn! - 1, length: t.image.length, kind }]
        : [];
    }),
    ...lexed.comments.map((c) => ({
      line: c.span.start.line - 1,
      char: c.span.start.column - 1,
      length: c.span.end.offset - c.span.start.offset,
      kind: 'comment' as const,
    })),
  ].sort((a, b) => a.line - b.line || a.char - b.char);
  const data: number[] = [];
  let line = 0,
    char = 0;
  for (const m of marks) {
    data.push(m.line - line, m.line === line ? m.char - char : m.char, m.length, SEMANTIC_TYPES.indexOf(m.kind), 0);
    line = m.line;
    char = m.char;
  }
  return { data };
}
