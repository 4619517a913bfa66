import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, expand } from '../../src/compiler/index.js';
import { variantId } from '../../src/compiler/variants.js';

// Bounded work on hostile sweeps: `sample` never expands the whole grid, and a grid too large to sample from is one
// diagnostic, at once. Also the sweep messages that misled (a number twice in another spelling, `sample -1`,
// `vary together lr, lr`, a screen after the last epoch).

const FLOWERS = path.resolve(__dirname, '../fixtures/data/flowers');
const file = path.join(FLOWERS, '..', 'r.tlr');
const list = (n: number, f: (i: number) => string | number) =>
  `{${Array.from({ length: n }, (_, i) => f(i)).join(', ')}}`;

describe('sample on a huge grid', () => {
  it('five lists of 40 with sample 2: one TLR0207 naming the bound, no variant expanded', () => {
    const text =
      `from resnet18 weights none input ${list(40, (i) => 32 + i)}\nhead dense(3)\n` +
      `train ${list(40, (i) => i + 1)} epochs on ${FLOWERS} lr ${list(40, (i) => `${i + 1}e-4`)}\n` +
      `  batch ${list(40, (i) => i + 1)}\nsplit ${list(40, (i) => `${50 + i}/${50 - i}`)}\nsample 2\n`;
    const r = compile(text, { file, sweeps: true });
    const d = r.diagnostics.find((x) => x.code === 'TLR0207');
    expect(d?.message).toBe('the lists make 102,400,000 variants; sample draws from at most 100,000');
    expect(r.sweep).toBeNull();
  });

  it('within the bound: the N variants with the smallest ids, without building the others', () => {
    const text = `from resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ${FLOWERS} lr ${list(60, (i) => `${i + 1}e-4`)}\n  batch ${list(50, (i) => i + 1)}\nsample 3\n`;
    const e = expand(text);
    expect(e.variants).toHaveLength(3);
    const all: string[] = [];
    for (let a = 1; a <= 60; a++)
      for (let b = 1; b <= 50; b++)
        all.push(
          variantId([
            { slot: 'lr', value: `${a}e-4` },
            { slot: 'batch', value: String(b) },
          ]),
        );
    expect(e.variants.map((v) => v.id).sort()).toEqual(all.sort().slice(0, 3));
  });
});

describe('sweep messages that misled', () => {
  const codes = (text: string) =>
    compile(text, { file, sweeps: true }).diagnostics.map((d) => `${d.code} ${d.severity}: ${d.message}`);

  it('lr {0.001, 1e-3} is the same value twice', () => {
    expect(codes(`from resnet18\ntrain 1 epoch on ${FLOWERS} lr {0.001, 1e-3}\n`)).toContain(
      'TLR0204 error: 1e-3 is 0.001 again: the same value twice in this list',
    );
  });

  it('sample -1 and sample 2.5 say that sample takes a whole number', () => {
    for (const n of ['-1', '2.5'])
      expect(codes(`from resnet18\ntrain 1 epoch on ${FLOWERS} lr {1e-3, 1e-4}\nsample ${n}\n`)).toContain(
        `TLR0210 error: sample ${n}: sample takes a whole number from 1 (how many variants to run)`,
      );
  });

  it('vary together lr, lr names lr twice', () => {
    expect(
      codes(`from resnet18\ntrain 1 epoch on ${FLOWERS} lr {1e-3, 1e-4} batch {8, 16}\nvary together lr, lr\n`),
    ).toContain('TLR0210 error: vary together names lr twice; name each list once');
  });

  it('keep best 1 after 5 epochs when every variant trains 1 epoch: a warning', () => {
    const got = codes(`from resnet18\ntrain 1 epoch on ${FLOWERS} lr {1e-3, 1e-4, 1e-2}\nkeep best 1 after 5 epochs\n`);
    expect(
      got.some((c) => c.startsWith('TLR0209 warning: keep best 1 after 5 epochs: the variants train at most 1 epoch')),
    ).toBe(true);
  });
});
