import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { RunBody, RunView } from '../../src/ui/run-view.js';
import { initialState, reduce } from '../../src/ui/state.js';
import { sparkline } from '../../src/ui/components/metrics.js';
import { Events, type RunEvent } from '../../src/runtime/events.js';
import { compile } from '../../src/compiler/index.js';
import * as path from 'node:path';

// The view from scripted event sequences, frame by frame.

const plan = compile(
  'recipe "demo"\nfrom mobilenet_v2 width 0.35\nhead dense(2)\ntrain 3 epochs on ../fixtures/data/split\nthen unfreeze from block14 train 2 epochs\n',
  { file: path.resolve(__dirname, 'demo.tlr') },
).plan!;
const metrics = (a: number) => ({ loss: 1 - a, accuracy: a, val_loss: 1.1 - a, val_accuracy: a - 0.05 });
const script: RunEvent[] = [
  { type: 'plan', plan, runDir: '/runs/demo/1', backend: 'wasm', resumed: false },
  { type: 'weights', phase: 'ready', from: 'cache', sha256: 'ab' },
  { type: 'features', phase: 'progress', split: 'train', done: 5, total: 10, key: 'k' },
];
const state = (events: RunEvent[], t0 = Date.now() - events.length * 1000) =>
  events.reduce((s, e, i) => reduce(s, e, t0 + i * 1000), initialState);

describe('run view', () => {
  it('shows the header, the stages and a feature-caching progress bar with rate and ETA', () => {
    const { lastFrame } = render(<RunBody s={state(script)} />);
    const f = lastFrame()!;
    expect(f).toContain('tlr run · demo');
    expect(f).toContain('mobilenet_v2 width 0.35 · 224px · weights ImageNet (cache) · backend wasm');
    expect(f).toContain('· stage 1: 3 epochs, head on cached features (waiting)');
    expect(f).toContain('· stage 2: 2 epochs, on images (waiting)');
    expect(f).toMatch(/features train\s+█+░+ 5\/10 img · [\d.]+ img\/s · ETA \d+s/);
  });

  it('marks the running stage, shows batches and the metrics table with the best epoch', () => {
    const s = state([
      ...script,
      { type: 'features', phase: 'done', split: 'train', key: 'k', total: 10 },
      { type: 'stage-start', stage: 1, of: 2, epochs: 3, trainable: 100, cached: true, backend: 'wasm' },
      { type: 'epoch', stage: 1, epoch: 1, epochs: 3, metrics: metrics(0.6), lr: 0.001, seconds: 0.5, best: true },
      { type: 'epoch', stage: 1, epoch: 2, epochs: 3, metrics: metrics(0.8), lr: 0.001, seconds: 0.5, best: true },
      { type: 'epoch', stage: 1, epoch: 3, epochs: 3, metrics: metrics(0.7), lr: 0.001, seconds: 0.5, best: false },
      { type: 'stage-start', stage: 2, of: 2, epochs: 2, trainable: 1000, cached: false, backend: 'wasm' },
      { type: 'batch', stage: 2, epoch: 1, batch: 3, batches: 12, loss: 0.3 },
    ]);
    const f = render(<RunBody s={s} />).lastFrame()!;
    expect(f).toContain('✓ stage 1: 3 epochs');
    expect(f).toContain('▶ stage 2: 2 epochs, on images');
    expect(f).toMatch(/stage 2 epoch 1\s+█*░+ 3\/12 batches/);
    const rows = f.split('\n').filter((l) => /^\s+1\s+\d\/3/.test(l));
    expect(rows).toHaveLength(3);
    expect(rows[1]).toContain('★ best');
    expect(rows[0]).not.toContain('★');
    expect(f).toMatch(/loss [▁▂▃▄▅▆▇█]{3}\s+val_acc [▁▂▃▄▅▆▇█]{3}/);
  });

  it('ends with the summary: best metric, confusion matrix with class names, where the model went', () => {
    const evaluation = {
      split: 'test' as const,
      images: 4,
      loss: 0.2,
      accuracy: 0.75,
      macroF1: 0.73,
      classes: [
        { name: 'cat', precision: 1, recall: 0.5, f1: 0.67, support: 2 },
        { name: 'dog', precision: 0.67, recall: 1, f1: 0.8, support: 2 },
      ],
      confusion: [
        [1, 1],
        [0, 2],
      ],
    };
    const s = state([
      ...script,
      { type: 'warning', message: 'skipped an unreadable image: x.png' },
      { type: 'evaluation', evaluation },
      {
        type: 'finished',
        runDir: '/runs/demo/1',
        modelDir: '/runs/demo/1/model',
        best: { metric: 'val_accuracy', value: 0.9, stage: 1, epoch: 2 },
        evaluation,
        seconds: 75,
      },
    ]);
    const f = render(<RunBody s={s} />).lastFrame()!;
    expect(f).toContain('warning: skipped an unreadable image: x.png');
    expect(f).toContain('test (4 images): accuracy 75.0%');
    expect(f).toMatch(/cat\s+1\s+1\n.*dog\s+0\s+2/);
    expect(f).toContain('best val_accuracy 0.9000 (stage 1, epoch 2)');
    expect(f).toContain('model  /runs/demo/1/model');
    expect(f).toContain('finished in 1m15s');
    expect(f).toContain('✓ stage 2');
  });

  it('follows a live event stream', async () => {
    const events = new Events();
    const { lastFrame, unmount } = render(<RunView events={events} />);
    for (const e of script) events.emit(e);
    await new Promise((r) => setTimeout(r, 20));
    expect(lastFrame()).toContain('tlr run · demo');
    events.emit({ type: 'error', message: 'cannot get the weights' });
    await new Promise((r) => setTimeout(r, 20));
    expect(lastFrame()).toContain('error: cannot get the weights');
    unmount();
  });

  it('sparklines scale to their range', () => {
    expect(sparkline([0, 0.5, 1])).toBe('▁▅█');
    expect(sparkline([2, 2])).toBe('▄▄');
  });
});

describe('a sweep above the run', () => {
  it('shows runs done, failures, the best so far, the time left and the variant running', () => {
    const { lastFrame } = render(
      <RunView
        events={new Events()}
        sweep={{
          total: 4,
          done: 2,
          failed: 1,
          current: { index: 1, of: 1, id: '164e5af4', name: 'head dense(64) dense(4), lr 0.001' },
          best: { id: '3d38bf28', name: 'head dense(4), lr 0.003', accuracy: 1 },
          secondsLeft: 150,
        }}
      />,
    );
    const f = lastFrame()!;
    expect(f).toMatch(
      /sweep 2\/4 done · 1 failed · best 3d38bf28 \(head dense\(4\), lr 0\.003\) 100\.0% · about 3 min left/,
    );
    expect(f).toContain('now 1 of 1: 164e5af4 (head dense(64) dense(4), lr 0.001)');
    const first = render(
      <RunView
        events={new Events()}
        sweep={{
          total: 2,
          done: 0,
          failed: 0,
          current: { index: 1, of: 2, id: 'a', name: 'lr 1' },
          best: null,
          secondsLeft: null,
        }}
      />,
    ).lastFrame()!;
    expect(first).toContain('sweep 0/2 done · time left: after the first variant (not calibrated');
  });
});
