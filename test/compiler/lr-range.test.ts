import { describe, expect, it } from 'vitest';
import { lexer } from '../../src/compiler/lexer.js';
import { format } from '../../src/compiler/index.js';

// `lr LOW..HIGH` shares its dots with paths and decimals: the lexer must tell them apart.

const kinds = (text: string) => lexer.tokenize(text).tokens.map((t) => `${t.tokenType.name}:${t.image}`);

describe('learning-rate ranges', () => {
  it('lexes a range between two numbers of any form', () => {
    expect(kinds('lr 1e-5..1e-3')).toEqual(['Lr:lr', 'NumberLit:1e-5', 'DotDot:..', 'NumberLit:1e-3']);
    expect(kinds('lr 0.0001..0.01')).toEqual(['Lr:lr', 'NumberLit:0.0001', 'DotDot:..', 'NumberLit:0.01']);
    expect(kinds('lr 1..3')).toEqual(['Lr:lr', 'NumberLit:1', 'DotDot:..', 'NumberLit:3']);
    expect(kinds('lr 1e-4...5')).toEqual(['Lr:lr', 'NumberLit:1e-4', 'DotDot:..', 'NumberLit:.5']);
  });

  it('still lexes paths and decimals as before', () => {
    expect(kinds('on ../data')).toEqual(['On:on', 'PathLit:../data']);
    expect(kinds('on ..')).toEqual(['On:on', 'PathLit:..']);
    expect(kinds('lr 1. cosine')).toEqual(['Lr:lr', 'NumberLit:1.', 'Identifier:cosine']);
    expect(kinds('lr .5')).toEqual(['Lr:lr', 'NumberLit:.5']);
  });

  it('formats a range, a schedule and a warm-up in one canonical order', () => {
    const f = format('from resnet18\ntrain 3 epochs on ./d lr 1e-5 .. 1e-3 one-cycle warmup 1\n');
    expect(f.ok && f.text).toBe('from resnet18\n\ntrain 3 epochs on ./d\n  lr 1e-5..1e-3 one-cycle warmup 1\n');
    const g = format('from resnet18\ntrain 3 epochs on ./d lr 0.01 warmup 0.5\n');
    expect(g.ok && g.text).toBe('from resnet18\n\ntrain 3 epochs on ./d\n  lr 0.01 warmup 0.5\n');
  });
});
