import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlr, tlrAsync } from '../helpers/cli.js';
import { makeWorld, recipe } from '../helpers/run-fixture.js';

// tlr removes only the files it wrote and listed. A user's shards that `pack --index` indexed are never tlr's to
// replace; a file a user adds to a folder tlr wrote (packed shards, a `save … to` model, a TF.js export) makes
// the rewrite refuse, naming that file, and nothing in the folder changes.

let w: { dir: string; weights: string };
const listing = (dir: string) => execFileSync('find', [dir, '-printf', '%P %s\n'], { encoding: 'utf8' });

beforeAll(() => {
  w = makeWorld({ perClass: 4 });
  process.env['TLR_CACHE'] = path.join(w.dir, 'cache');
});

afterAll(() => {
  delete process.env['TLR_CACHE'];
  fs.rmSync(w.dir, { recursive: true, force: true });
});

describe('tlr pack --force', () => {
  it("never takes an index written by pack --index as proof that tlr owns a user's shards folder", async () => {
    const made = path.join(w.dir, 'made');
    expect((await tlrAsync('pack', path.join(w.dir, 'data'), '--out', made)).code).toBe(0);
    const mine = path.join(w.dir, 'mine');
    fs.mkdirSync(path.join(mine, 'scripts'), { recursive: true });
    for (const f of fs.readdirSync(made).filter((n) => n.endsWith('.tar')))
      fs.copyFileSync(path.join(made, f), path.join(mine, f));
    fs.writeFileSync(path.join(mine, 'NOTES.md'), 'my notes');
    fs.writeFileSync(path.join(mine, 'scripts', 'make.sh'), 'echo made');
    expect((await tlrAsync('pack', '--index', mine)).code).toBe(0);
    const before = listing(mine);
    const r = await tlrAsync('pack', path.join(w.dir, 'data'), '--out', mine, '--force');
    expect(r.code).toBe(2);
    expect(r.err).toContain('tlr did not write');
    expect(listing(mine)).toBe(before);
  });

  it('refuses to replace packed shards beside which a user put a file, naming it; replaces them without it', async () => {
    const out = path.join(w.dir, 'packed');
    expect((await tlrAsync('pack', path.join(w.dir, 'data'), '--out', out)).code).toBe(0);
    fs.mkdirSync(path.join(out, 'extra'));
    fs.writeFileSync(path.join(out, 'extra', 'NOTES.md'), 'keep me');
    const before = listing(out);
    const r = await tlrAsync('pack', path.join(w.dir, 'data'), '--out', out, '--force');
    expect(r.code).toBe(2);
    expect(r.err).toContain('extra/NOTES.md, which tlr did not write');
    expect(listing(out)).toBe(before);
    fs.rmSync(path.join(out, 'extra'), { recursive: true });
    expect((await tlrAsync('pack', path.join(w.dir, 'data'), '--out', out, '--force')).code).toBe(0);
  });
});

describe('a model folder tlr wrote, with a file a user added', () => {
  it('save … to: check names the file, and a run leaves the folder as it was; export --format tfjs --force too', async () => {
    const file = recipe(
      w.dir,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 1 epoch on ./data\n  batch 8\n` +
        'split 50/25/25\nsave to ./saved\n',
    );
    const first = await tlrAsync('run', file);
    expect(first.code, first.err).toBe(0);
    const saved = path.join(w.dir, 'saved');
    expect(JSON.parse(fs.readFileSync(path.join(saved, '.tlr-model'), 'utf8')).files).toContain('weights.bin');
    // A second run replaces the folder: every file in it was listed.
    expect((await tlrAsync('run', file)).code).toBe(0);
    fs.writeFileSync(path.join(saved, 'NOTES.md'), 'keep me');
    const before = listing(saved);
    const c = tlr('check', file);
    expect(c.code).toBe(1);
    expect(c.out).toContain('NOTES.md, which tlr did not write');
    expect((await tlrAsync('run', file)).code).toBe(1);
    expect(listing(saved)).toBe(before);
    const out = path.join(w.dir, 'export');
    expect((await tlrAsync('export', saved, '--format', 'tfjs', '--out', out)).code).toBe(0);
    fs.writeFileSync(path.join(out, 'mine.txt'), 'keep me');
    const again = await tlrAsync('export', saved, '--format', 'tfjs', '--out', out, '--force');
    expect(again.code).toBe(2);
    expect(again.err).toContain('mine.txt, which tlr did not write');
    expect(fs.readFileSync(path.join(out, 'mine.txt'), 'utf8')).toBe('keep me');
  }, 120_000);
});
