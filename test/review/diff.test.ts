import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { diffPlans, planChanges } from '../../src/review/diff.js';
import { PLAN_ASPECTS, STAGE_ASPECTS } from '../../src/review/aspects.js';
import { planCompute } from '../../src/review/compute.js';
import type { Plan } from '../../src/contracts/plan.js';
import { makeWorld } from '../helpers/run-fixture.js';

// What a change means, from two plans: tlr diff's core, on recipes over a small real data set.

const world = makeWorld({ perClass: 8 });
afterAll(() => fs.rmSync(world.dir, { recursive: true, force: true }));

const BASE = `recipe "r"
from resnet18
  input 64
train 5 epochs on ./data
  lr 0.003
then unfreeze from block4 train 3 epochs
split 50/25/25
`;

function plan(text: string): Plan {
  const c = compile(text, { file: path.join(world.dir, 'r.tlr') });
  if (!c.plan) throw new Error(c.diagnostics.map((d) => d.message).join('\n'));
  return c.plan;
}

describe('diffPlans', () => {
  it('comments and layout only: equal, no changes', () => {
    const d = diffPlans(plan(BASE), plan(`# a comment\n${BASE.replace('  lr 0.003', '    lr   0.003 # why')}`));
    expect(d.equal).toBe(true);
    expect(d.changes).toEqual([]);
  });

  it('a lower freeze point: the block starts training, its parameters counted; the prefix cache is recomputed', () => {
    const a = plan(BASE),
      b = plan(BASE.replace('unfreeze from block4', 'unfreeze from block3'));
    const d = diffPlans(a, b);
    expect(d.equal).toBe(false);
    const block3 = a.model.blocks.find((x) => x.name === 'block3')!.params;
    expect(d.training[1]).toMatchObject({ stage: 2, startTraining: block3, stopTraining: 0 });
    expect(d.training[1]!.after!.trainable - d.training[1]!.before!.trainable).toBe(block3);
    expect(d.training[0]).toMatchObject({ startTraining: 0, stopTraining: 0 });
    expect(d.changes.map((c) => `${c.stage}:${c.label}`)).toEqual(
      expect.arrayContaining(['2:frozen', '2:trainable parameters', '2:features']),
    );
    expect(d.caches.map((c) => [c.kind, c.state])).toEqual([
      ['features', 'valid'],
      ['prefix', 'invalidated'],
    ]);
    expect(d.caches[1]!.why).toContain('the layer it is cut at');
  });

  it('the learning rate and epochs: caches stay valid, compute follows the epochs', () => {
    const a = plan(BASE),
      b = plan(BASE.replace('train 5 epochs', 'train 10 epochs').replace('lr 0.003', 'lr 0.001'));
    const d = diffPlans(a, b);
    expect(d.changes.map((c) => `${c.section}:${c.stage}:${c.label}:${c.before}→${c.after}`)).toEqual([
      'training:1:epochs:5→10',
      'training:1:lr:0.003 constant→0.001 constant',
      // Stage 2 writes no rate: it takes stage 1's / 10, so it moves too, and the diff says so.
      'training:2:lr:3e-4 constant→1e-4 constant',
    ]);
    expect(d.caches.every((c) => c.state === 'valid')).toBe(true);
    const [s1a, s1b] = [d.compute.before.stages[0]!, d.compute.after.stages[0]!];
    expect(s1b.total - s1b.once).toBeCloseTo(2 * (s1a.total - s1a.once), 0);
  });

  it('another input size invalidates every cache and names why', () => {
    const d = diffPlans(plan(BASE), plan(BASE.replace('input 64', 'input 96')));
    expect(d.caches.map((c) => c.state)).toEqual(['invalidated', 'invalidated']);
    expect(d.caches[0]!.why).toContain('the network or its input size');
    expect(d.compute.after.forward / d.compute.before.forward).toBeCloseTo((96 * 96) / (64 * 64), 1);
  });

  it('a stage added and removed; augmentation makes a stage uncached', () => {
    const a = plan(BASE),
      b = plan(`${BASE}augment flip\n`.replace(/then unfreeze.*\n/, ''));
    const d = diffPlans(a, b);
    expect(d.training[1]).toMatchObject({ stage: 2, after: null });
    // Every aspect of the stage, less the caching's reason (it folds into the `features` row when that changed).
    expect(d.changes.filter((c) => c.stage === 2 && c.after === null).length).toBe(STAGE_ASPECTS.length - 1);
    expect(d.caches).toEqual([expect.objectContaining({ stage: 1, kind: 'none', state: 'dropped' })]);
    expect(diffPlans(b, a).caches[1]).toMatchObject({ kind: 'prefix', state: 'new' });
  });

  it('a stage after one that trained the backbone caches per run only', () => {
    const text = `${BASE}then unfreeze from block4 train 2 epochs\n`.replace(
      'then unfreeze from block4 train 3 epochs\n',
      'then unfreeze from block4 train 3 epochs\nthen freeze all train 2 epochs\n',
    );
    const p = plan(text);
    const d = diffPlans(p, p);
    expect(d.equal).toBe(true);
    expect(d.caches[2]).toMatchObject({ kind: 'features', state: 'per-run' });
  });

  it('every field of a plan is seen by some aspect: a change to any leaf shows in the diff', () => {
    const a = plan(`${BASE}augment flip\nexport onnx\n`);
    const leaves: string[][] = [];
    const walk = (v: unknown, at: string[]) => {
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
      else leaves.push(at);
    };
    walk(a, []);
    const unseen: string[] = [];
    for (const leaf of leaves) {
      if (leaf[0] === 'recipe' && leaf[1] === 'file') continue; // where the file is: not what runs
      if (leaf[0] === 'format' || leaf[0] === 'version') continue;
      if (leaf[0] === 'stages' && leaf[2] === 'index') continue; // a stage's place, not a setting
      const b = JSON.parse(JSON.stringify(a));
      let o = b;
      for (const k of leaf.slice(0, -1)) o = o[k];
      const k = leaf[leaf.length - 1]!;
      // Another value of the same field: a number moved, a flag flipped, a word of a closed set swapped.
      const other: Record<string, string> = {
        'previous-best': 'weights',
        weights: 'previous-best',
        keep: 'update',
        update: 'keep',
        data: 'split',
      };
      o[k] = typeof o[k] === 'number' ? o[k] + 1 : typeof o[k] === 'boolean' ? !o[k] : (other[o[k]] ?? `${o[k]}x`);
      let changes: ReturnType<typeof planChanges>;
      try {
        changes = planChanges(a, b);
      } catch {
        continue; // a value outside its kind's table: an aspect read it and could not word it
      }
      if (!changes.length || changes.every((c) => c.label === 'plan')) unseen.push(leaf.join('.'));
    }
    expect(unseen).toEqual([]);
  });

  it('the aspect table names every section once per label', () => {
    const labels = PLAN_ASPECTS.map((x) => `${x.section}:${x.label}`);
    expect(new Set(labels).size).toBe(labels.length);
  });
});

describe('planCompute', () => {
  it('a cached stage costs its cache once, then only the head', () => {
    const p = plan(BASE);
    const c = planCompute(p);
    const s1 = c.stages[0]!;
    const n = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
    const [train, val] = [n(p.data.counts.train), n(p.data.counts.validation)];
    expect([train, val]).toEqual([12, 6]);
    expect(s1.cache).toBe('features');
    expect(s1.perImage.frozen).toBeGreaterThan(0);
    expect(s1.once).toBe((train + val) * (s1.perImage.frozen + s1.perImage.trained));
    expect(s1.perEpochTraining).toBe(train * 3 * s1.perImage.head);
    expect(s1.perEpochForward).toBe(val * s1.perImage.head);
    expect(c.stages[1]!.cache).toBe('prefix');
  });
});
