import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';

// A misspelt clause word is named, with the word it was meant to be, whatever statement stands before it: after a
// value that takes a further word (`lr 0.003` takes a schedule), the misspelling would otherwise be read into it.

const first = (text: string) => compile(text, { file: '/tmp/typo.tlr' }).diagnostics[0]!;

describe('typo hints', () => {
  it.each([
    ['lr 0.003', 'optimiser adam', 'optimiser', 'optimizer'],
    ['batch 8', 'optimiser adam', 'optimiser', 'optimizer'],
    ['lr 0.003 cosine', 'optimiser adam', 'optimiser', 'optimizer'],
    ['head dense(3)', 'augmnet flip', 'augmnet', 'augment'],
    ['lr 0.003', 'bacth 16', 'bacth', 'batch'],
    ['early stop', 'optimiser sgd', 'optimiser', 'optimizer'],
  ])('after %j, %j names %j and suggests %j', (before, line, word, meant) => {
    const text = `from resnet18\ntrain 2 epochs on ./x\n  ${before}\n  ${line}\n`;
    const d = first(text);
    expect(d.code).toBe('TLR0101');
    expect(text.slice(d.span.start.offset, d.span.end.offset)).toBe(word);
    expect(d.hints[0]).toBe(`did you mean \`${meant}\`?`);
  });
});
