import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planErrors, assertPlan, PlanError } from '../../src/contracts/validate.js';

// schema/plan.schema.json itself: every golden plan is valid, and each kind of damage is caught
// with the path of what is wrong.

const VALID = path.resolve(__dirname, '../fixtures/valid');
const plans = fs
  .readdirSync(VALID)
  .filter((f) => f.endsWith('.plan.json'))
  .sort();
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(VALID, f), 'utf8'));

describe('plan schema', () => {
  it.each(plans)('accepts the golden plan %s', (f) => {
    expect(planErrors(load(f))).toEqual([]);
  });

  // biome-ignore lint/suspicious/noExplicitAny: each case damages the plan anywhere, as a hand edit would
  const damage: [string, (p: Record<string, any>) => void, RegExp][] = [
    [
      'a newer version',
      (p) => {
        p.version = 2;
      },
      /\/version must be equal to constant/,
    ],
    [
      'another format',
      (p) => {
        p.format = 'something';
      },
      /\/format must be equal to constant/,
    ],
    [
      'a missing section',
      (p) => {
        delete p.stages;
      },
      /must have required property 'stages'/,
    ],
    [
      'an unknown field',
      (p) => {
        p.model.colour = 'red';
      },
      /\/model must NOT have additional properties/,
    ],
    [
      'an unknown data format',
      (p) => {
        p.data.format = 'parquet';
      },
      /\/data\/format must be equal to one of the allowed values \(folders, split-folders, idx, csv, shards\)/,
    ],
    [
      'zero epochs',
      (p) => {
        p.stages[0].epochs = 0;
      },
      /\/stages\/0\/epochs must be >= 1/,
    ],
    [
      'a learning rate of 0',
      (p) => {
        p.stages[0].lr.initial = 0;
      },
      /\/stages\/0\/lr\/initial must be > 0/,
    ],
    [
      'a string for a number',
      (p) => {
        p.seed = '42';
      },
      /\/seed must be/,
    ],
    [
      'an unknown optimizer',
      (p) => {
        p.stages[0].optimizer = 'lion';
      },
      /\/stages\/0\/optimizer must be equal to one of the allowed values/,
    ],
  ];
  it.each(damage)('rejects %s, naming where', (_what, damage, message) => {
    const p = load(plans[0]!);
    damage(p);
    const errors = planErrors(p);
    expect(errors.join('\n')).toMatch(message);
    expect(() => assertPlan(p)).toThrow(PlanError);
  });
});
