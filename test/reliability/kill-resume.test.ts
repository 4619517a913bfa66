import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeWorld, recipe } from '../helpers/run-fixture.js';
import { ROOT } from '../helpers/cli.js';
import { rng } from '../../src/data/random.js';
import { HEAVY } from '../helpers/heavy.js';

// Fault injection: `tlr run` killed with SIGKILL at random moments (mid-batch, mid-save), then
// `--resume`d until it finishes, ends with the very weights of a run never killed; metrics.jsonl
// never holds an epoch twice, and no temporary folder is left behind.

// Five kills with TLR_HEAVY=1 (npm run test:heavy, in .ci/run); two in npm test, within its time.
const KILLS = HEAVY ? 5 : 2;

function tlrRun(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  killAfterMs: number | null,
): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
        path.join(ROOT, 'src/cli/bin.ts'),
        'run',
        ...args,
        '--json',
      ],
      { cwd, env: { ...process.env, ...env }, stdio: 'ignore' },
    );
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      done(code);
    });
  });
}

const runDirs = (dir: string) => {
  const runs = path.join(dir, 'runs', 'r');
  return fs.existsSync(runs) ? fs.readdirSync(runs).map((d) => path.join(runs, d)) : [];
};

describe('kill -9 at random moments, then --resume', () => {
  it(`${KILLS} kills: the final weights equal an uninterrupted run's, bit for bit`, async () => {
    const w = makeWorld({ perClass: 6 });
    const text =
      `recipe "r"\nfrom mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain ` +
      `3 epochs on ./data lr 0.01\n  batch 8\nthen unfreeze from block13 train 3 epochs\nsplit 50/50\n`;
    // The same engine in both runs (TensorFlow.js on this thread): the comparison is bit for bit.
    const env = { TLR_CACHE: path.join(w.dir, 'cache'), TLR_WORKERS: '0', TLR_INFERENCE: 'tfjs', CI: '1' };
    const refDir = path.join(w.dir, 'ref'),
      killDir = path.join(w.dir, 'killed');
    for (const d of [refDir, killDir]) {
      fs.mkdirSync(d);
      recipe(d, text);
      fs.symlinkSync(path.join(w.dir, 'data'), path.join(d, 'data'));
    }
    const t0 = Date.now();
    expect(await tlrRun(['recipe.tlr'], refDir, env, null)).toBe(0);
    const whole = Date.now() - t0;
    const ref = runDirs(refDir)[0]!;

    const random = rng(2024);
    let finished = false,
      kills = 0;
    for (let attempt = 0; attempt < 40 && !finished; attempt++) {
      const existing = runDirs(killDir).find(
        (d) => fs.existsSync(path.join(d, 'plan.json')) && !fs.existsSync(path.join(d, 'report.json')),
      );
      const args = existing ? ['--resume', existing] : ['recipe.tlr'];
      const killAt = kills < KILLS ? Math.floor(800 + random() * (whole - 800)) : null;
      const code = await tlrRun(args, killDir, env, killAt);
      if (code !== null) expect(code).toBe(0);
      else kills++;
      // A kill can land after the run wrote its report: it finished all the same.
      finished = runDirs(killDir).some((d) => fs.existsSync(path.join(d, 'report.json')));
    }
    expect(finished).toBe(true);
    const done = runDirs(killDir).filter((d) => fs.existsSync(path.join(d, 'report.json')));
    expect(done).toHaveLength(1);
    const final = done[0]!;
    expect(
      fs
        .readFileSync(path.join(final, 'model', 'weights.bin'))
        .equals(fs.readFileSync(path.join(ref, 'model', 'weights.bin'))),
    ).toBe(true);
    const epochs = fs
      .readFileSync(path.join(final, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { stage: number; epoch: number });
    expect(epochs.map((e) => `${e.stage}.${e.epoch}`)).toEqual(['1.1', '1.2', '1.3', '2.1', '2.2', '2.3']);
    const leftovers = fs
      .readdirSync(final, { recursive: true })
      .map(String)
      .filter((n) => /\.(tmp|old)-|\.part-/.test(n));
    expect(leftovers).toEqual([]);
  }, 240_000);
});
