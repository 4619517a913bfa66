import { expect, it } from 'vitest';
import { sweepTable } from '../../src/report/sweep-table.js';
import type { SweepRecord, SweepVariant } from '../../src/runtime/sweep-folder.js';

// The best variant of a sweep, and when its accuracy ties another's, how the tie was broken.

const variant = (id: string, accuracy: number, macroF1: number, trainableParams: number): SweepVariant =>
  ({
    id,
    name: `lr ${id}`,
    choices: [{ slot: 'lr', value: id }],
    status: 'finished',
    runDir: null,
    error: null,
    trainableParams,
    seconds: 3,
    screen: null,
    evaluation: { split: 'test', accuracy, macroF1 },
    plan: {},
  }) as unknown as SweepVariant;

const record = (variants: SweepVariant[]): SweepRecord =>
  ({
    format: 'tlr-sweep',
    version: 1,
    recipe: { file: '/r.tlr', digest: 'x' },
    engine: 'tfjs',
    groups: [{ slot: 'lr', alternatives: variants.map((v) => v.id) }],
    keep: null,
    variants,
  }) as unknown as SweepRecord;

it('says how a tie on accuracy was broken', () => {
  expect(sweepTable('/s', record([variant('a', 0.9, 0.8, 10), variant('b', 0.9, 0.85, 10)])).text).toMatch(
    /best \(\*\): b .*; tied on accuracy with a, chosen by its higher macro F1$/,
  );
  expect(sweepTable('/s', record([variant('a', 0.9, 0.8, 10), variant('b', 0.9, 0.8, 5)])).text).toMatch(
    /best \(\*\): b .*; tied on accuracy with a, chosen by its macro F1, then its fewer trainable parameters$/,
  );
  expect(sweepTable('/s', record([variant('a', 0.9, 0.8, 10), variant('b', 0.8, 0.9, 5)])).text).toMatch(
    /best \(\*\): a \(lr a\), 90\.00% on the test split$/,
  );
});
