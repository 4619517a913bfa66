import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { WatchSession, listingChanges, planChanges, type WatchStatus } from '../../src/watch/session.js';
import { compile } from '../../src/compiler/index.js';

// Watch mode's decisions, with the recipe's text in memory and a runner that only records.

const FILE = path.resolve(__dirname, '../fixtures/valid/watch.tlr');
const base = 'from mobilenet_v2 width 0.35\nhead dense(2)\ntrain 3 epochs on ../data/strawberries\n';

function world() {
  let text = base;
  let listing: string[] = ['a/1.png', 'b/1.png'];
  let missing = false;
  const log: string[] = [];
  const statuses: WatchStatus[] = [];
  let stopped = 0;
  const session = new WatchSession({
    compile: () => {
      if (missing) return { plan: null, text: '', diagnostics: '', missing: true };
      const c = compile(text, { file: FILE });
      return { plan: c.plan, text, diagnostics: c.diagnostics.map((d) => d.message).join('\n'), listing };
    },
    start: (plan, _t, n) => {
      log.push(`start ${n}: ${plan.head.layers.map((l) => l.kind).join(',')}`);
      let resolve: () => void = () => undefined;
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      return {
        stop: () => {
          stopped++;
          log.push(`stop ${n}`);
          resolve();
        },
        done,
      };
    },
    status: (s) => statuses.push(s),
  });
  return {
    session,
    log,
    statuses,
    set: (t: string) => {
      text = t;
    },
    images: (l: string[]) => {
      listing = l;
    },
    remove: (gone: boolean) => {
      missing = gone;
    },
    stopped: () => stopped,
  };
}

describe('watch session', () => {
  it(
    'starts, ignores saves that do not change the plan, keeps running while the recipe is broken, ' +
      'restarts on a new plan',
    async () => {
      const w = world();
      await w.session.changed();
      expect(w.log).toEqual(['start 1: dense']);
      w.set(`${base}# a comment changes no plan\n`);
      await w.session.changed();
      expect(w.statuses.at(-1)).toEqual({ kind: 'unchanged' });
      w.set(base.replace('head dense(2)', 'head dense(2'));
      await w.session.changed();
      expect(w.statuses.at(-1)).toMatchObject({ kind: 'diagnostics' });
      expect(w.log).toEqual(['start 1: dense']);
      w.set(base.replace('head dense(2)', 'head dropout(0.2) dense(2)'));
      await w.session.changed();
      expect(w.log).toEqual(['start 1: dense', 'stop 1', 'start 2: dropout,dense']);
      const started = w.statuses.at(-1) as Extract<WatchStatus, { kind: 'started' }>;
      expect(started.changes[0]).toMatch(/^head\.layers\[0\]\.kind: "dense" → "dropout"/);
      await w.session.stop();
      expect(w.log.at(-1)).toBe('stop 2');
    },
  );

  it('handles rapid changes one at a time, in order', async () => {
    const w = world();
    await w.session.changed();
    w.set(base.replace('3 epochs', '4 epochs'));
    const a = w.session.changed();
    w.set(base.replace('3 epochs', '5 epochs'));
    const b = w.session.changed();
    await Promise.all([a, b]);
    expect(w.log).toEqual(['start 1: dense', 'stop 1', 'start 2: dense']);
    expect(w.stopped()).toBe(1);
  });

  it('restarts when images are added to or removed from the data, saying which', async () => {
    const w = world();
    await w.session.changed();
    w.images(['a/1.png', 'b/1.png']);
    await w.session.changed();
    expect(w.statuses.at(-1)).toEqual({ kind: 'unchanged' });
    w.images(['a/1.png', 'a/2.png']);
    await w.session.changed();
    expect(w.log).toEqual(['start 1: dense', 'stop 1', 'start 2: dense']);
    expect(w.statuses.at(-1)).toEqual({
      kind: 'started',
      run: 2,
      changes: ['images added: 1 (a/2.png)', 'images removed: 1 (b/1.png)'],
    });
  });

  it('keeps the run going while the recipe is deleted, and picks it up when it comes back', async () => {
    const w = world();
    await w.session.changed();
    w.remove(true);
    await w.session.changed();
    expect(w.statuses.at(-1)).toEqual({ kind: 'missing' });
    expect(w.stopped()).toBe(0);
    w.remove(false);
    await w.session.changed();
    expect(w.statuses.at(-1)).toEqual({ kind: 'unchanged' });
    expect(w.log).toEqual(['start 1: dense']);
  });

  it('counts many changed images without listing them all', () => {
    const many = Array.from({ length: 5 }, (_, i) => `c/${i}.png`);
    expect(listingChanges([], many)).toEqual(['images added: 5 (c/0.png, c/1.png, c/2.png, …)']);
    expect(listingChanges(many, many)).toEqual([]);
  });

  it('lists what changed between two plans', () => {
    expect(planChanges({ a: 1, b: [1, 2] }, { a: 2, b: [1, 2, 3] })).toEqual(['a: 1 → 2', 'b[2]: (none) → 3']);
  });
});
