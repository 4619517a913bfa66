import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, format } from '../../src/compiler/index.js';
import { CODES } from '../../src/compiler/codes.js';
import { LineIndex } from '../../src/compiler/source.js';
import { rng } from '../helpers/random.js';
import { mutate, seeds, soup } from '../helpers/mutate.js';

// Thousands of broken recipes: nothing throws, every problem is a diagnostic with a valid span,
// fmt is idempotent and never changes the plan.

const FILE = path.resolve(__dirname, '../fixtures/valid/fuzz.tlr');
const COUNT = Number(process.env['TLR_FUZZ'] ?? 3000);

function verify(text: string): void {
  const lines = new LineIndex(text);
  const r = compile(text, { file: FILE });
  for (const d of r.diagnostics) {
    expect(CODES[d.code], d.code).toBeDefined();
    expect(d.message.length).toBeGreaterThan(0);
    const { start, end } = d.span;
    expect(
      0 <= start.offset && start.offset <= end.offset && end.offset <= text.length,
      `span ${JSON.stringify(d.span)} in ${text.length} chars`,
    ).toBe(true);
    expect(lines.position(start.offset)).toEqual(start);
    expect(lines.position(end.offset)).toEqual(end);
  }
  const f = format(text);
  if (!f.ok) {
    expect(r.plan).toBeNull();
    return;
  }
  const again = format(f.text);
  expect(again.ok && again.text, `fmt not idempotent for:\n${text}`).toBe(f.text);
  const r2 = compile(f.text, { file: FILE });
  expect(r2.plan, `fmt changed the plan of:\n${text}`).toEqual(r.plan);
}

describe('fuzz', () => {
  const base = seeds();
  it(`survives ${COUNT} mutated and random recipes`, () => {
    const r = rng(20261128);
    for (let i = 0; i < COUNT; i++) {
      const text = i % 4 === 3 ? soup(r) : mutate(r, base[i % base.length]!);
      try {
        verify(text);
      } catch (e) {
        throw new Error(`recipe #${i} failed:\n----\n${text}\n----\n${(e as Error).message}`);
      }
    }
  });
});
