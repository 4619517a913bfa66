import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliArgs, tlrAsync } from '../helpers/cli.js';
import { makeWorld, recipe } from '../helpers/run-fixture.js';
import { LOCK_FILE, lockFolder } from '../../src/files/lock.js';

// One process at a time in a run folder and in a sweep folder: two `tlr run --resume RUN_DIR` started at once
// train once (the second is refused, naming the holder) and metrics.jsonl holds each epoch once; a lock whose
// holder died (kill -9) is taken over; a sweep folder in use is refused the same way.

/** `tlr run ARGS --json` as a child; resolves with its status, or kills it once `killWhen` sees a line. */
function run(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  killWhen?: (line: string) => boolean,
): Promise<{ code: number | null; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...cliArgs(), 'run', ...args, '--json'], {
      cwd,
      env: { ...process.env, ...env },
    });
    let err = '',
      buf = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      if (killWhen && lines.some(killWhen)) child.kill('SIGKILL');
    });
    child.on('exit', (code) => done({ code, err }));
  });
}

const epochs = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const m = JSON.parse(l);
      return `${m.stage}/${m.epoch}`;
    });

describe('a run folder', () => {
  it('killed (its lock left behind), then resumed twice at once: one trains, the other is refused; no epoch twice', async () => {
    const w = makeWorld({ perClass: 6 });
    const file = recipe(
      w.dir,
      `recipe "r"\nfrom mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain ` +
        `2 epochs on ./data lr 0.01\n  batch 8\nthen unfreeze from block11 train 12 epochs\nsplit 50/50\n`,
    );
    const env = { TLR_CACHE: path.join(w.dir, 'cache'), TLR_WORKERS: '0', TLR_INFERENCE: 'tfjs', CI: '1' };
    const killed = await run([file], w.dir, env, (l) => l.includes('"type":"epoch"') && l.includes('"stage":2'));
    expect(killed.code).toBe(null); // SIGKILL
    const runs = path.join(w.dir, 'runs', 'r');
    const dir = path.join(runs, fs.readdirSync(runs)[0]!);
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(true); // the dead process's
    const [a, b] = await Promise.all([run(['--resume', dir], w.dir, env), run(['--resume', dir], w.dir, env)]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    const refused = a.code === 1 ? a : b;
    expect(refused.err).toMatch(/is in use: another tlr \(process \d+ on .*\) holds this run folder|already finished/);
    const seen = epochs(dir);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(14);
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  }, 240_000);
});

describe('a sweep folder in use', () => {
  it('is refused by a second run --resume, naming the holder', async () => {
    const w = makeWorld({ perClass: 4 });
    const file = recipe(
      w.dir,
      `recipe "s"\nfrom mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\n` +
        'train 1 epoch on ./data lr {0.01, 0.001}\n  batch 8\nsplit 50/50\n',
    );
    process.env['TLR_CACHE'] = path.join(w.dir, 'cache');
    try {
      const first = await tlrAsync('run', file);
      expect(first.code, first.err).toBe(0);
      const runs = path.join(w.dir, 'runs', 's');
      const sweep = path.join(runs, fs.readdirSync(runs).find((n) => fs.existsSync(path.join(runs, n, 'sweep.json')))!);
      const release = lockFolder(sweep, 'sweep folder');
      try {
        const again = await tlrAsync('run', '--resume', sweep);
        expect(again.code).toBe(1);
        expect(again.err).toContain(`is in use: another tlr (process ${process.pid}`);
      } finally {
        release();
      }
      expect(fs.existsSync(path.join(sweep, LOCK_FILE))).toBe(false);
    } finally {
      delete process.env['TLR_CACHE'];
    }
  }, 120_000);
});
