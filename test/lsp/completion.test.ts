import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../src/compiler/clauses.js';
import { completion, openDoc } from '../../src/lsp/services.js';

// Completion at every position the docs promise: after each clause's words (one row per clause of the clause table,
// so a new clause needs its row here), wherever on a line the clause starts, and inside a list of alternatives.

const FIXTURES = path.resolve(__dirname, '../fixtures');
const file = path.join(FIXTURES, 'valid', 'completion.tlr');
const BASE = 'from mobilenet_v1\n  width 0.25\nhead dense(3)\ntrain 2 epochs on ../data/flowers\n';

/** Labels offered at the end of `typed`, written as the last line of a recipe. */
function offered(typed: string, base = BASE): string[] {
  const text = `${base}${typed}`;
  const lines = text.split('\n');
  const doc = openDoc(file, text);
  return completion(doc, { line: lines.length - 1, character: lines.at(-1)!.length }).map((c) => c.label);
}

// Each clause kind: what is typed, and a label that must be offered after it (null: the clause takes a value of the
// user's own, a name or a number, and nothing is offered).
const ROWS: Record<(typeof KINDS)[number], [string, string | null][]> = {
  recipe: [['recipe ', null]],
  seed: [['seed ', null]],
  from: [['from ', 'resnet18']],
  weights: [['weights ', 'imagenet']],
  width: [['width ', '0.25']],
  input: [['input ', '224']],
  features: [['features ', 'int8']],
  freeze: [
    ['freeze ', 'until'],
    ['freeze until ', 'block12'],
  ],
  unfreeze: [
    ['unfreeze ', 'from'],
    ['unfreeze from ', 'block12'],
    ['then unfreeze from ', 'block12'],
    ['then unfreeze from block12 train 2 epochs\n  lr 1e-4 ', 'cosine'],
  ],
  head: [
    ['head ', 'dense'],
    ['head dense(64, ', 'relu'],
    ['head dense(4) ', 'multi-label'],
  ],
  train: [['train 3 epochs on ../data/', '../data/flowers']],
  batch: [['batch ', null]],
  optimizer: [['optimizer ', 'adam']],
  lr: [['lr 0.01 ', 'cosine']],
  earlyStop: [
    ['early ', 'stop'],
    ['early stop ', 'patience'],
    ['early stop on ', 'val_loss'],
  ],
  classWeights: [
    ['class ', 'weights'],
    ['class weights ', 'auto'],
  ],
  balance: [['balance ', 'classes']],
  batchnorm: [
    ['keep ', 'batchnorm'],
    ['update batchnorm ', 'statistics'],
  ],
  then: [['then ', 'unfreeze']],
  split: [['split ', null]],
  validate: [
    ['validate ', 'on'],
    ['validate on ../data/', '../data/flowers-val'],
  ],
  test: [['test on ../data/', '../data/flowers-test']],
  augment: [['augment ', 'flip']],
  save: [
    ['save ', 'best'],
    ['save best by ', 'val_accuracy'],
  ],
  export: [
    ['export ', 'onnx'],
    ['export onnx ', 'softmax'],
  ],
  keepBest: [['keep ', 'best']],
  varyTogether: [['vary together ', null]],
  sample: [['sample ', null]],
};

describe('completion', () => {
  it('has a row for every clause of the clause table', () => {
    expect(Object.keys(ROWS).sort()).toEqual([...KINDS].sort());
  });

  for (const [kind, rows] of Object.entries(ROWS))
    for (const [typed, label] of rows)
      it(`${kind}: ${JSON.stringify(typed.split('\n').at(-1))}`, () => {
        const got = offered(typed);
        if (label === null) expect(got).toEqual([]);
        else expect(got).toContain(label);
      });

  it("offers the narrow network's own blocks inside a list of alternatives, and the clause words on a new line", () => {
    expect(offered('freeze until {block11, bl')).toContain('block12');
    expect(offered('')).toEqual(expect.arrayContaining(['from', 'then', 'augment', 'vary', 'sample']));
  });
});
