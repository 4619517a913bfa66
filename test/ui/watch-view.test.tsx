import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import * as path from 'node:path';
import { WatchView, type WatchFeed } from '../../src/ui/watch-view.js';
import { Events, type RunEvent } from '../../src/runtime/events.js';
import type { WatchStatus } from '../../src/watch/session.js';
import { compile } from '../../src/compiler/index.js';

// Watch mode's view: after a finished run, a save that breaks the recipe puts the diagnostics last
// (where the eye is), and the finished run shrinks to one line so they fit a short terminal.

const plan = compile(
  'recipe "demo"\nfrom mobilenet_v2 width 0.35\nhead dense(2)\ntrain 3 epochs on ../fixtures/data/split\n',
  { file: path.resolve(__dirname, 'demo.tlr') },
).plan!;
const ev = { split: 'test' as const, images: 4, loss: 0.2, accuracy: 0.75, macroF1: 0.7, classes: [], confusion: [] };
const finished: RunEvent[] = [
  { type: 'plan', plan, runDir: '/runs/demo/1', backend: 'wasm', resumed: false },
  { type: 'evaluation', evaluation: ev },
  {
    type: 'finished',
    runDir: '/runs/demo/1',
    modelDir: '/runs/demo/1/model',
    best: { metric: 'val_accuracy', value: 0.8, stage: 1, epoch: 2 },
    evaluation: ev,
    seconds: 3,
  },
];

describe('watch view', () => {
  it('shows diagnostics at the bottom, under a finished run shrunk to one line', async () => {
    let emit: (s: WatchStatus, e: Events | null) => void = () => undefined;
    const feed: WatchFeed = {
      on: (l) => {
        emit = l;
        return () => undefined;
      },
    };
    const { lastFrame, rerender } = render(<WatchView file="r.tlr" feed={feed} onQuit={() => undefined} />);
    const events = new Events({ replay: true });
    emit({ kind: 'started', run: 1, changes: [] }, events);
    for (const e of finished) events.emit(e);
    await new Promise((r) => setTimeout(r, 20));
    rerender(<WatchView file="r.tlr" feed={feed} onQuit={() => undefined} />);
    expect(lastFrame()).toContain('test (4 images)');
    emit({ kind: 'diagnostics', text: "r.tlr:2:1: error[TLR0101]: 'freez' does not start a statement" }, events);
    await new Promise((r) => setTimeout(r, 20));
    const lines = lastFrame()!.split('\n');
    expect(lines.length).toBeLessThan(12);
    expect(lastFrame()).not.toContain('test (4 images)');
    expect(lastFrame()).toContain('run finished: best val_accuracy 0.8000');
    const last = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes('does not start a statement'));
    expect(last[0]![1]).toBeGreaterThan(lines.findIndex((l) => l.includes('run finished')));
  });
});
