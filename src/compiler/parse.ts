import type { CstNode, IToken } from 'chevrotain';
import { lexer } from './lexer.js';
import { parser } from './grammar.js';
import { byPosition, diag, type Diagnostic } from './diagnostics.js';
import { LineIndex, type Span } from './source.js';

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

/** How each statement is written, for syntax errors inside it. */
export const USAGE: Record<string, string> = {
  recipeName: 'recipe "NAME"',
  seed: 'seed N',
  from: 'from MODEL (`tlr models` lists them)',
  weights: 'weights imagenet | none | ./file.safetensors | ./model.json | https://…',
  width: 'width W (mobilenet_v1: 0.25 0.5 0.75 1; mobilenet_v2: 0.35 0.5 0.75 1 1.4)',
  inputSize: 'input PIXELS',
  freeze: 'freeze all | freeze none | freeze until LAYER | freeze first N layers',
  unfreeze: 'unfreeze all | unfreeze from LAYER | unfreeze last N layers',
  head: 'head dropout(0.2) dense(128, relu) dense(N)',
  headLayer: 'head dropout(0.2) dense(128, relu) dense(N)',
  train: 'train N epochs on ./data',
  batch: 'batch N',
  optimizer: 'optimizer adam | sgd | rmsprop',
  lr: 'lr 0.001 [constant | cosine | step FACTOR every N]',
  earlyStop: 'early stop [patience N] [on METRIC]',
  classWeights: 'class weights auto | none',
  split: 'split 80/20 or split 80/10/10 (no spaces around /)',
  validate: 'validate on ./folder',
  test: 'test on ./folder',
  augment: 'augment flip, rotate 15, zoom 0.1, brightness 0.2',
  augmentation: 'augment flip, rotate 15, zoom 0.1, brightness 0.2',
  save: 'save [best by METRIC | last] [to ./folder]',
  location: 'a path like ./images, or "a path with spaces"',
};

const STATEMENT_HINT = 'a statement starts with recipe, seed, from, weights, width, input, freeze, unfreeze, head, train, batch, optimizer, lr, early stop, class weights, then, split, validate, test, augment or save';

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
