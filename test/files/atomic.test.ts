import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recoverDir, replaceDirAtomic, writeFileAtomic, WriteError } from '../../src/files/atomic.js';

// Atomic writes: whole or nothing, never through a planted link, a clear error on a full disk
// with no temporary file left, and the leftovers of a killed replace recovered.

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-atomic-'));

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temporary file', () => {
    const d = tmp(),
      f = path.join(d, 'sub', 'a.json');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, 'two');
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    expect(fs.readdirSync(path.dirname(f))).toEqual(['a.json']);
  });

  it('a symlink planted where the file goes is replaced, never written through', () => {
    const d = tmp(),
      victim = path.join(d, 'victim.txt'),
      f = path.join(d, 'a.json');
    fs.writeFileSync(victim, 'keep');
    fs.symlinkSync(victim, f);
    writeFileAtomic(f, 'new');
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep');
    expect(fs.lstatSync(f).isSymbolicLink()).toBe(false);
  });
});

describe('on a full disk', () => {
  const mnt = tmp();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status === 0;
  afterAll(() => {
    if (mounted) spawnSync('umount', [mnt]);
  });

  it.skipIf(!mounted)(
    'says which file could not be written, keeps the old content and leaves no partial file',
    async () => {
      const f = path.join(mnt, 'report.json');
      writeFileAtomic(f, 'good');
      expect(() => writeFileAtomic(f, Buffer.alloc(256 * 1024))).toThrow(WriteError);
      expect(() => writeFileAtomic(f, Buffer.alloc(256 * 1024))).toThrow(`could not write ${f}: the disk is full`);
      expect(fs.readFileSync(f, 'utf8')).toBe('good');
      await expect(
        replaceDirAtomic(path.join(mnt, 'model'), (t) =>
          fs.writeFileSync(path.join(t, 'weights.bin'), Buffer.alloc(256 * 1024)),
        ),
      ).rejects.toThrow(/could not write .*model: the disk is full/);
      expect(fs.readdirSync(mnt)).toEqual(['report.json']);
    },
  );
  it.skipIf(!mounted)(
    'a run whose folder fills the disk stops with an error naming the file, and leaves no partial files',
    async () => {
      const { makeWorld, recipe } = await import('../helpers/run-fixture.js');
      const { compile } = await import('../../src/compiler/index.js');
      const { run } = await import('../../src/engines/tfjs/run.js');
      const { Events } = await import('../../src/runtime/events.js');
      await import('@tensorflow/tfjs-backend-wasm');
      const w = makeWorld({ perClass: 4 });
      const dir = path.join(mnt, 'project');
      fs.mkdirSync(dir);
      fs.symlinkSync(path.join(w.dir, 'data'), path.join(dir, 'data'));
      const f = recipe(
        dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 1 epoch on ` +
          `./data\nsplit 50/50\n`,
      );
      const c = compile(fs.readFileSync(f, 'utf8'), { file: f });
      await expect(
        run({
          plan: c.plan!,
          recipeText: '',
          events: new Events(),
          backend: 'wasm',
          env: { ...process.env, TLR_CACHE: path.join(w.dir, 'cache'), TLR_WORKERS: '0' },
        }),
      ).rejects.toThrow(/could not write .*the disk is full; nothing was changed there/);
      const left = fs
        .readdirSync(mnt, { recursive: true })
        .map(String)
        .filter((n) => /\.(tmp|old)-|\.part-/.test(n));
      expect(left).toEqual([]);
    },
    30_000,
  );
  if (!mounted) it('(skipped: mounting a small tmpfs is not allowed here, so no full-disk test)', () => undefined);
});

describe('replaceDirAtomic', () => {
  it('puts back the old folder a killed replace had moved aside, and removes dead leftovers', async () => {
    const d = tmp(),
      dir = path.join(d, 'model');
    // A process (pid 999999: not running) died between its two renames.
    fs.mkdirSync(path.join(d, '.model.old-999999-abc'));
    fs.writeFileSync(path.join(d, '.model.old-999999-abc', 'weights.bin'), 'old');
    fs.mkdirSync(path.join(d, '.model.tmp-999999-def'));
    fs.mkdirSync(path.join(d, 'model.tmp-999999-1700000000'));
    recoverDir(dir);
    expect(fs.readdirSync(d).sort()).toEqual(['model']);
    expect(fs.readFileSync(path.join(dir, 'weights.bin'), 'utf8')).toBe('old');
    await replaceDirAtomic(dir, (t) => fs.writeFileSync(path.join(t, 'weights.bin'), 'new'));
    expect(fs.readdirSync(d)).toEqual(['model']);
    expect(fs.readFileSync(path.join(dir, 'weights.bin'), 'utf8')).toBe('new');
  });

  it('leaves the leftovers of a process still running alone', () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, `.model.tmp-${process.pid}-x`));
    recoverDir(path.join(d, 'model'));
    expect(fs.readdirSync(d)).toEqual([`.model.tmp-${process.pid}-x`]);
  });
});
