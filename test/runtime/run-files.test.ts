import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type RunEvent } from '../../src/runtime/events.js';
import { CONTRACT_SCHEMAS, contractErrors } from '../../src/contracts/validate.js';
import { compile } from '../../src/compiler/index.js';

// The TypeScript types and schema/ agree: the schema lists exactly the event types the compiler
// knows (EVENT_TYPES is checked against RunEvent by the type checker), an example of each event,
// typed as RunEvent, validates, and drift (a missing or extra field) does not.

const SCHEMA = path.resolve(__dirname, '../../schema');
const plan = compile(
  'from resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ../fixtures/data/flowers\n',
  { file: path.resolve(__dirname, 'r.tlr') },
).plan!;
const evaluation = {
  split: 'test',
  images: 2,
  loss: 0.5,
  accuracy: 0.5,
  macroF1: 0.33,
  classes: [{ name: 'a', precision: 1, recall: 0.5, f1: 0.66, support: 2 }],
  confusion: [
    [1, 1],
    [0, 0],
  ],
} as const;

const EXAMPLES: readonly RunEvent[] = [
  { type: 'plan', plan, runDir: '/r', backend: 'wasm', resumed: false },
  { type: 'weights', phase: 'downloading', url: 'https://x/y', received: 10, total: null },
  { type: 'weights', phase: 'ready', from: 'cache', sha256: 'ab' },
  { type: 'data', counts: { train: 7, validation: 1, test: 2 } },
  {
    type: 'features',
    phase: 'done',
    split: 'train',
    total: 7,
    key: 'abc',
    workers: 2,
    engine: 'ONNX Runtime',
    through: 'block3',
  },
  { type: 'stage-start', stage: 1, of: 2, epochs: 3, trainable: 1000, cached: true, backend: 'wasm' },
  { type: 'batch', stage: 1, epoch: 1, batch: 1, batches: 4, loss: 0.7 },
  {
    type: 'epoch',
    stage: 1,
    epoch: 1,
    epochs: 3,
    metrics: { loss: 1, accuracy: 0.5, val_loss: 1, val_accuracy: 0.5 },
    lr: 1e-3,
    seconds: 1.5,
    best: true,
  },
  { type: 'checkpoint', stage: 1, epoch: 1, path: '/r/checkpoint', best: true },
  { type: 'lr-found', stage: 1, lr: 3e-3, rule: 'minimum / 10', minimum: 3e-2, steepest: 1e-2, steps: 100 },
  { type: 'early-stop', stage: 1, epoch: 2, metric: 'val_loss', patience: 2 },
  { type: 'evaluation', evaluation },
  { type: 'warning', message: 'w', file: '/x.png' },
  { type: 'interrupted', runDir: '/r', stage: 1, epoch: 0 },
  { type: 'error', message: 'e' },
  {
    type: 'finished',
    runDir: '/r',
    modelDir: '/r/model',
    best: { metric: 'val_accuracy', value: 0.9, stage: 1, epoch: 2 },
    evaluation,
    seconds: 3,
    exported: ['/r/model/model.onnx'],
  },
];

describe('schema/ and the TypeScript types', () => {
  it('every schema is a file of schema/, and each compiles', () => {
    for (const f of Object.values(CONTRACT_SCHEMAS)) expect(fs.existsSync(path.join(SCHEMA, f)), f).toBe(true);
    expect(contractErrors('engine', { engine: 'tfjs', settings: {} })).toEqual([]);
  });

  it('the events schema lists exactly the event types RunEvent has', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMA, 'events.schema.json'), 'utf8'));
    expect([...schema.properties.type.enum].sort()).toEqual([...EVENT_TYPES].sort());
    expect(new Set(EXAMPLES.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
  });

  it('an example of every event validates', () => {
    for (const e of EXAMPLES) expect(contractErrors('event', e), e.type).toEqual([]);
  });

  it('drift does not: a missing field, an unknown field, a wrong type, an unknown event', () => {
    expect(contractErrors('event', { type: 'batch', stage: 1, epoch: 1, batch: 1, batches: 4 }).join()).toContain(
      "must have required property 'loss'",
    );
    expect(contractErrors('event', { type: 'warning', message: 'w', extra: 1 }).join()).toContain(
      'must NOT have additional properties: extra',
    );
    expect(contractErrors('event', { type: 'data', counts: { train: '7', validation: 1, test: 2 } }).join()).toContain(
      '/counts/train must be integer',
    );
    expect(contractErrors('event', { type: 'nope' }).join()).toContain('must be equal to one of the allowed values');
    expect(contractErrors('report', { format: 'tlr-report', version: 2 }).join()).toContain(
      '/version must be equal to constant',
    );
  });
});
