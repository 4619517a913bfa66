import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compile } from '../../src/compiler/index.js';
import type { PlanHeadLayer } from '../../src/contracts/plan.js';
import { HEAD_KINDS, HEAD_LAYERS, headLayerText, headParams } from '../../src/zoo/head-layers.js';

// The head-layer table is whole: the plan schema's kinds are its rows (the torch engine's
// HEAD_LAYERS is checked against the same schema in python/tests/test_head.py), every row
// has every facet, and what a row writes, the checker reads back to the same layer.

const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../schema/plan.schema.json'), 'utf8'));
const FLOWERS = path.resolve(__dirname, '../fixtures/data/flowers');

it('its rows are the kinds the plan schema allows', () => {
  const kinds = schema.definitions.headLayer.oneOf.map(
    (alt: { properties: { kind: { const: string } } }) => alt.properties.kind.const,
  );
  expect([...HEAD_KINDS].sort()).toEqual([...kinds].sort());
});

// Every facet is required by the table's type; what can still go wrong is what a facet answers.
it("every row's TensorFlow.js class is one TF.js knows, and its size adds up its weights", () => {
  const sample: Record<string, PlanHeadLayer> = {
    dense: { kind: 'dense', units: 5, activation: 'relu' },
    dropout: { kind: 'dropout', rate: 0.2 },
    batchnorm: { kind: 'batchnorm' },
  };
  for (const k of HEAD_KINDS) {
    const d = HEAD_LAYERS[k] as unknown as {
      tfClass: string;
      size: (l: PlanHeadLayer, n: number) => { params: number; outputs: number };
    };
    expect(tf.serialization.SerializationMap.getMap().classNameMap[d.tfClass], k).toBeTruthy();
    const { params, outputs } = d.size(sample[k]!, 7);
    expect(outputs, k).toBe(k === 'dense' ? 5 : 7);
    expect(params, k).toBe({ dense: 7 * 5 + 5, dropout: 0, batchnorm: 2 * 7 }[k]);
  }
});

it('what a row writes, the checker reads back to the same layer', () => {
  const layers: PlanHeadLayer[] = [
    { kind: 'dense', units: 16, activation: 'relu' },
    { kind: 'batchnorm' },
    { kind: 'dropout', rate: 0.25 },
    { kind: 'dense', units: 3, activation: 'linear' },
  ];
  expect(new Set(layers.map((l) => l.kind))).toEqual(new Set(HEAD_KINDS));
  const text = `from resnet18 weights none input 32\nhead ${layers.map(headLayerText).join(' ')}\ntrain 1 epoch on ${FLOWERS}\n`;
  const plan = compile(text, { file: path.join(FLOWERS, '..', 'r.tlr') }).plan!;
  expect(plan.head.layers).toEqual(layers);
  // ResNet-18's 512 features: 512*16+16, then 2*16 for BatchNorm, then 16*3+3.
  expect(plan.head.params).toBe(512 * 16 + 16 + 2 * 16 + 16 * 3 + 3);
  expect(headParams(512, layers)).toBe(plan.head.params);
});

it("a head layer that no row has is an error listing the rows' usages", () => {
  const r = compile(`from resnet18 weights none input 32\nhead dense(8) pool\ntrain 1 epoch on ${FLOWERS}\n`, {
    file: path.join(FLOWERS, '..', 'r.tlr'),
  });
  const d = r.diagnostics.find((x) => x.code === 'TLR1201')!;
  expect(d.message).toBe('unknown head layer `pool`');
  expect(d.hints.join(' ')).toContain(HEAD_KINDS.map((k) => HEAD_LAYERS[k].usage)[0]);
});
