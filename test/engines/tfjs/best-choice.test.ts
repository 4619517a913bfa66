import { spawnAsync } from '../../helpers/cli.js';
import { describe, expect, it } from 'vitest';
import { beats } from '../../../src/engines/tfjs/stages/record.js';
import { tieBreakOf, type Plan } from '../../../src/contracts/plan.js';
import { findTorchPython, hasTorch, engineEnv } from '../../../src/engines/torch/python.js';

const py = await findTorchPython();

// "save best by": a tie on the monitored metric goes to the better secondary metric (the loss for
// an accuracy, the accuracy for a loss), in both engines. On a small validation set accuracy ties
// often, and the earliest tied epoch is usually the least trained one.

const save = (metric: 'val_accuracy' | 'val_loss'): Plan['save'] => ({
  metric,
  mode: metric === 'val_loss' ? 'min' : 'max',
  which: 'best',
  to: null,
  tieBreak: tieBreakOf(metric),
});
const m = (val_accuracy: number, val_loss: number) => ({ loss: 0, accuracy: 0, val_accuracy, val_loss });

// [save by, epoch's (val_accuracy, val_loss), best so far {value, second}, beats?]
const CASES: [
  string,
  'val_accuracy' | 'val_loss',
  [number, number],
  { value: number; second?: number } | null,
  boolean,
][] = [
  ['the first epoch is the best so far', 'val_accuracy', [0.5, 1], null, true],
  ['a higher accuracy wins', 'val_accuracy', [0.9, 0.5], { value: 0.8, second: 0.1 }, true],
  ['a tie in accuracy goes to the lower loss', 'val_accuracy', [0.9, 0.095], { value: 0.9, second: 0.273 }, true],
  [
    'a tie in accuracy with a higher loss keeps the best',
    'val_accuracy',
    [0.9, 0.3],
    { value: 0.9, second: 0.273 },
    false,
  ],
  ['a tie in both keeps the earlier', 'val_accuracy', [0.9, 0.273], { value: 0.9, second: 0.273 }, false],
  ['a tie in loss goes to the higher accuracy', 'val_loss', [0.95, 0.2], { value: 0.2, second: 0.9 }, true],
  [
    'a checkpoint from before the tie-break (no second) keeps its best',
    'val_accuracy',
    [0.9, 0.01],
    { value: 0.9 },
    false,
  ],
];

describe('the best-model choice', () => {
  it.each(CASES)('tfjs engine: %s', (_what, metric, [acc, loss], best, expected) => {
    expect(beats(save(metric), m(acc, loss), best)).toBe(expected);
  });
  it('the plan names the tie-break: the loss for an accuracy, the accuracy for a loss', () => {
    expect(tieBreakOf('val_accuracy')).toEqual({ metric: 'val_loss', mode: 'min' });
    expect(tieBreakOf('loss')).toEqual({ metric: 'accuracy', mode: 'max' });
  });
  it.skipIf(!hasTorch(py))('torch engine: the same decisions', async () => {
    const script = `
import json, sys

from types import SimpleNamespace
from tlr_torch.run import Run
for metric, (acc, loss), best in json.loads(sys.argv[1]):
    run = SimpleNamespace(ctx=SimpleNamespace(plan={"save": {"metric": metric, "mode": "min" if metric.endswith("loss") else "max"}}))
    print(json.dumps(Run.beats(run, {"val_accuracy": acc, "val_loss": loss}, best)))`;
    const r = await spawnAsync(
      hasTorch(py) ? py.python : 'python3',
      ['-c', script, JSON.stringify(CASES.map(([, metric, e, best]) => [metric, e, best]))],
      { env: engineEnv(process.env), encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(CASES.map((c) => c[4]));
  });
});
