import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeWorld } from '../helpers/run-fixture.js';
import { ROOT } from '../helpers/cli.js';

// tlr watch as a process, off a terminal: a save by rename that breaks the recipe shows the
// diagnostics and the run goes on; a save that changes only the head restarts it, and the backbone
// features come from the cache.

const until = async (read: () => string, re: RegExp, ms = 40_000) => {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (re.test(read())) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${re} in:\n${read()}`);
};

describe('tlr watch', () => {
  it('re-plans on save (editors that save by rename too) and reuses cached features', {
    timeout: 180_000,
  }, async () => {
    const w = makeWorld();
    const recipe = path.join(w.dir, 'recipe.tlr');
    const text =
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 2 epochs on ` +
      `./data\nthen unfreeze from block13 train 5000 epochs\nsplit 70/30\n`;
    fs.writeFileSync(recipe, text);
    const saveByRename = (t: string) => {
      const tmp = path.join(w.dir, '.recipe.tlr.swp');
      fs.writeFileSync(tmp, t);
      fs.renameSync(tmp, recipe);
    };
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
        path.join(ROOT, 'src/cli/bin.ts'),
        'watch',
        recipe,
        '--backend',
        'wasm',
      ],
      {
        cwd: w.dir,
        env: { ...process.env, TLR_CACHE: path.join(w.dir, 'cache'), NO_COLOR: '1', CI: '1' },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await until(() => out, /epoch\s+2\/5000/);
      saveByRename(text.replace('head dense(3)', 'head dense(3'));
      await until(() => out, /the recipe has errors; the current run goes on/);
      const n = (out.match(/epoch\s+\d+\/5000/g) ?? []).length;
      await until(() => out, new RegExp(`epoch\\s+${n + 1}/5000`));
      saveByRename(text.replace('head dense(3)', 'head dropout(0.1) dense(3)'));
      await until(() => out, /the plan changed:\n\s+head\.layers\[0\]\.kind/);
      await until(() => out, /interrupted after stage \d/);
      await until(() => out, /run 2: the plan changed/);
      await until(() => out, /features\s+train: \d+ from the cache/);
      expect(out).toMatch(/features\s+train: \d+ computed and cached/);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.on('exit', r));
    }
    expect(out).not.toMatch(/internal error|\n\s+at /);
  });
});
