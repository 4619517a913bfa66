import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { variantId } from '../../src/compiler/variants.js';
import { diffSweeps, type VariantPlan } from '../../src/review/sweep-diff.js';
import { makeWorld } from '../helpers/run-fixture.js';

// tlr diff of sweeps: variants matched by id, then by plan, a lone recipe paired with its closest
// variant; changed variants grouped by their changes.

const world = makeWorld({ perClass: 4 });
afterAll(() => fs.rmSync(world.dir, { recursive: true, force: true }));

function variants(text: string): VariantPlan[] {
  const c = compile(text, { file: path.join(world.dir, 'r.tlr'), sweeps: true });
  if (c.plan) return [{ id: variantId([]), name: 'the recipe', plan: c.plan }];
  if (!c.sweep?.variants.every((v) => v.plan)) throw new Error(c.diagnostics.map((d) => d.message).join('\n'));
  return c.sweep.variants.map((v) => ({ id: v.variant.id, name: v.variant.name, plan: v.plan! }));
}

const BASE = 'from resnet18\n  input 32\nhead dense(3)\ntrain 2 epochs on ./data\n  lr {1e-3, 3e-4}\nsplit 50/25/25\n';
const ids = (vs: readonly { after: VariantPlan }[]) => vs.map((p) => p.after.name);

describe('diffSweeps', () => {
  it('a reordered, reformatted sweep is equal', () => {
    const moved = 'lr   {3e-4,1e-3}\ntrain 2 epochs on ./data\nfrom resnet18 input 32\nhead dense(3)\nsplit 50/25/25\n';
    const d = diffSweeps(variants(BASE), variants(moved));
    expect(d.equal).toBe(true);
    expect(d.unchanged).toHaveLength(2);
  });

  it('a recipe that becomes a sweep is the variant that runs what it ran; the rest are added', () => {
    const d = diffSweeps(variants(BASE.replace('{1e-3, 3e-4}', '3e-4')), variants(BASE));
    expect(d.equal).toBe(false);
    expect(d.unchanged.map((p) => [p.before.name, p.after.name])).toEqual([['the recipe', 'lr 3e-4']]);
    expect(d.added.map((v) => v.name)).toEqual(['lr 1e-3']);
    expect(d.removed).toEqual([]);
  });

  it('a recipe changed as it became a sweep is paired with its closest variant, and its change shown', () => {
    const d = diffSweeps(
      variants(BASE.replace('{1e-3, 3e-4}', '1e-3')),
      variants(BASE.replace('train 2 epochs', 'train 3 epochs').replace('{1e-3, 3e-4}', '{1e-3, 1e-4, 3e-5}')),
    );
    expect(d.changed).toHaveLength(1);
    expect(ids(d.changed[0]!.pairs)).toEqual(['lr 1e-3']);
    expect(d.changed[0]!.diff.changes.map((c) => `${c.label}: ${c.before} → ${c.after}`)).toEqual(['epochs: 2 → 3']);
    expect(d.added.map((v) => v.name)).toEqual(['lr 1e-4', 'lr 3e-5']);
  });

  it('one edit of a shared line changes every variant alike: one group; a changed list adds and removes', () => {
    const after = BASE.replace('train 2 epochs', 'train 4 epochs').replace('{1e-3, 3e-4}', '{1e-3, 3e-4, 1e-4}');
    const d = diffSweeps(variants(BASE), variants(after));
    expect(d.changed).toHaveLength(1);
    expect(ids(d.changed[0]!.pairs)).toEqual(['lr 1e-3', 'lr 3e-4']);
    expect(d.added.map((v) => v.name)).toEqual(['lr 1e-4']);
    const gone = diffSweeps(variants(BASE), variants(BASE.replace('{1e-3, 3e-4}', '{1e-3, 1e-4}')));
    expect([gone.removed.map((v) => v.name), gone.added.map((v) => v.name), ids(gone.unchanged)]).toEqual([
      ['lr 3e-4'],
      ['lr 1e-4'],
      ['lr 1e-3'],
    ]);
  });

  it('a sweep that becomes a recipe: the variant it keeps, the others removed', () => {
    const d = diffSweeps(variants(BASE), variants(BASE.replace('{1e-3, 3e-4}', '1e-3')));
    expect(d.unchanged.map((p) => [p.before.name, p.after.name])).toEqual([['lr 1e-3', 'the recipe']]);
    expect(d.removed.map((v) => v.name)).toEqual(['lr 3e-4']);
  });
});
