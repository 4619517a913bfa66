import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { makeWorld } from '../helpers/run-fixture.js';
import { spawn } from 'node:child_process';
import { cliArgs, tlr, tlrAsync } from '../helpers/cli.js';
import { assertPlan } from '../../src/contracts/validate.js';
import { contractErrors } from '../../src/contracts/validate.js';
import { sweepProgress } from '../../src/cli/commands/run-sweep.js';

// A sweep end to end on tiny data (tfjs engine): its plan, a run where one variant fails and the
// sweep goes on, sweep.json against its schema, the table, and a resume that runs only what failed.

let world: ReturnType<typeof makeWorld>;
let file = '';
let broken = '';
beforeAll(() => {
  world = makeWorld({ perClass: 6 });
  process.env['TLR_CACHE'] = path.join(world.dir, 'cache');
  // A second weights folder whose shard is cut short: the checker reads its manifest, the run fails.
  broken = path.join(world.dir, 'broken');
  fs.mkdirSync(broken);
  fs.copyFileSync(world.weights, path.join(broken, 'model.json'));
  fs.writeFileSync(path.join(broken, 'weights.bin'), Buffer.alloc(64));
  file = path.join(world.dir, 'sweep.tlr');
  fs.writeFileSync(
    file,
    `from mobilenet_v1 width 0.25 input 32 weights {${world.weights}, ./broken/model.json}\n` +
      'train 1 epoch on ./data\n  lr {0.01, 0.001}\nsplit 50/25/25\n',
  );
});
afterAll(() => fs.rmSync(world.dir, { recursive: true, force: true }));

const sweepDir = () => {
  const d = path.join(world.dir, 'runs', 'sweep');
  return path.join(d, fs.readdirSync(d).find((n) => n.startsWith('sweep-'))!);
};
const record = () => JSON.parse(fs.readFileSync(path.join(sweepDir(), 'sweep.json'), 'utf8'));

describe('a sweep', () => {
  it('tlr plan prints the runs with what each trains and its compute; --json holds a valid plan per variant', async () => {
    const r = await tlrAsync('plan', file);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^sweep .*sweep\.tlr: 4 runs \(weights ×2, lr ×2\), one after another/);
    expect(r.out).toMatch(/^variant\s+weights\s+lr\s+trainable\s+compute\s+tfjs time/m);
    expect(r.out.match(/^[0-9a-f]{8} /gm)).toHaveLength(4);
    expect(r.out).toMatch(/whole sweep: [\d.]+ [kMGT]?MAC/);
    const j = await tlrAsync('plan', file, '--json');
    const sweep = JSON.parse(j.out);
    expect(sweep.format).toBe('tlr-sweep-plan');
    expect(sweep.variants).toHaveLength(4);
    for (const v of sweep.variants) assertPlan(v.plan);
    expect(
      sweep.variants.map((v: { plan: { stages: { lr: { initial: number } }[] } }) => v.plan.stages[0]!.lr.initial),
    ).toEqual([0.01, 0.001, 0.01, 0.001]);
    const c = await tlrAsync('check', file);
    expect(c.out).toMatch(/ok \(a sweep of 4 variants\)/);
    // fmt lays the sweep out, each list where it stands, and --check then passes.
    const f = tlr('fmt', file);
    expect(f.code, f.err).toBe(0);
    expect(f.out).toMatch(
      /^from mobilenet_v1\n {2}weights \{.*, \.\/broken\/model\.json\}\n {2}width 0\.25\n {2}input 32\n/,
    );
    expect(f.out).toMatch(/^ {2}lr \{0\.01, 0\.001\}$/m);
    const formatted = path.join(world.dir, 'formatted.tlr');
    fs.writeFileSync(formatted, f.out);
    expect(tlr('fmt', '--check', formatted).code).toBe(0);
    // explain: the grid, then what each list varies, as tlr diff says it.
    const e = await tlrAsync('explain', file);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/^# Sweep: .*sweep\.tlr\n\n4 runs/);
    expect(e.out).toMatch(/^\| variant \| weights \| lr \| trainable \| compute \| tfjs time \|( torch time \|)?$/m);
    expect(e.out).toMatch(
      /^### lr: 0\.01 → 0\.001 \([0-9a-f]{8} → [0-9a-f]{8}\)\n\n- training: the same parameters train/m,
    );
    expect(e.out).toMatch(/^## The first variant, [0-9a-f]{8} \(weights .*, lr 0\.01\)$/m);
    expect(e.out).toMatch(/^#### Stage 1$/m);
    // --html: the same as one page, the first variant's stages drawn as explain --html draws a recipe.
    const h = await tlrAsync('explain', file, '--html');
    expect(h.code, h.err).toBe(0);
    expect(h.out).toMatch(/^<!doctype html>/);
    expect(h.out).toMatch(/<h1>Sweep: .*sweep\.tlr<\/h1><p>4 runs \(weights ×2, lr ×2\)/);
    expect(h.out.match(/<tr><td>[0-9a-f]{8}<\/td>/g)).toHaveLength(4);
    expect(h.out).toMatch(/<h3>lr: 0\.01 → 0\.001 \([0-9a-f]{8} → [0-9a-f]{8}\)<\/h3><ul><li>training: /);
    expect(h.out).toContain('<div class="blocks">');
  });

  it('runs every variant; a failing one is recorded and the sweep goes on; sweep.json is valid', async () => {
    const r = await tlrAsync('run', file);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/variant 4 of 4 to run/);
    const s = record();
    expect(contractErrors('sweep', s)).toEqual([]);
    const status = s.variants.map((v: { status: string }) => v.status);
    expect(status).toEqual(['finished', 'finished', 'failed', 'failed']);
    expect(s.variants[2].error).toMatch(/broken/);
    for (const v of s.variants.slice(0, 2)) {
      expect(fs.existsSync(path.join(sweepDir(), v.runDir, 'report.json'))).toBe(true);
      expect(v.evaluation.accuracy).toBeGreaterThanOrEqual(0);
      expect(fs.readFileSync(path.join(sweepDir(), v.runDir, 'recipe.tlr'), 'utf8')).not.toMatch(/[{}]/);
    }
    expect(r.out).toMatch(/^\*\s+[0-9a-f]{8}\s/m);
    expect(r.err).toMatch(/2 of 4 variants finished; failed: /);
    // report.html: the table with the best marked, a pivot, and accuracy against parameters and time.
    expect(r.out).toMatch(/written: .*report\.html \(the table, and accuracy against trainable parameters and time\)/);
    const page = fs.readFileSync(path.join(sweepDir(), 'report.html'), 'utf8');
    expect(page).toMatch(/accuracy against trainable parameters<\/text>/);
    expect(page).toMatch(/accuracy against time<\/text>/);
    expect(page.match(/<circle /g)).toHaveLength(4); // two finished variants, on each plot
    expect(page).toMatch(/<tr class="best"><td>\*<\/td>/);
    expect(page).toMatch(/<h2>weights × lr<\/h2>/);
    fs.rmSync(path.join(sweepDir(), 'report.html'));
    expect((await tlrAsync('report', sweepDir())).code).toBe(0);
    expect(fs.readFileSync(path.join(sweepDir(), 'report.html'), 'utf8')).toBe(page);
    // The runs folder the sweep made is kept out of git, as a run's is.
    expect(fs.readFileSync(path.join(world.dir, 'runs', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  }, 120_000);

  it("the live view's sweep line: runs done, failures, the best so far, time left from the finished variants", () => {
    const s = record();
    const [a, b, c, d] = s.variants;
    const p = sweepProgress(s, d, 2, 2);
    expect(p).toMatchObject({ total: 4, done: 2, failed: 2, current: { index: 2, of: 2, id: d.id } });
    const best = [a, b].sort((x, y) => y.evaluation.accuracy - x.evaluation.accuracy)[0];
    expect(p.best?.accuracy).toBe(best.evaluation.accuracy);
    expect(p.secondsLeft).toBe(0);
    // Two variants still to run: twice the finished ones' mean time.
    const again = { ...s, variants: [a, b, { ...c, status: 'pending' }, { ...d, status: 'running' }] };
    expect(sweepProgress(again, d, 1, 2).secondsLeft).toBeCloseTo(a.seconds + b.seconds, 6);
  });

  it('tlr compare SWEEP_DIR prints the table, and --by pivots one varied value against another', async () => {
    const c = await tlrAsync('compare', sweepDir());
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/^\s+variant\s+weights\s+lr\s+status\s+accuracy\s+macro F1\s+trainable\s+time/m);
    expect(c.out).toMatch(/best \(\*\): [0-9a-f]{8} \(weights .*, lr 0\.0?1\)/);
    expect(fs.existsSync(path.join(sweepDir(), 'compare.md'))).toBe(true);
    // compare.csv holds the data: numbers as numbers, not as the table shows them (97.92%, 5,124, 4 s).
    const [header, ...rows] = fs
      .readFileSync(path.join(sweepDir(), 'compare.csv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    expect(header).toEqual([
      'best',
      'variant',
      'weights',
      'lr',
      'status',
      'accuracy',
      'macro_f1',
      'trainable_params',
      'seconds',
    ]);
    const finished = rows.filter((r) => r[4] === 'finished');
    expect(finished.length).toBeGreaterThan(0);
    for (const r of finished) {
      expect(Number(r[5])).toBeGreaterThanOrEqual(0);
      expect(Number(r[5])).toBeLessThanOrEqual(1);
      expect(r[7]).toMatch(/^\d+$/);
      expect(r[8]).toMatch(/^\d+(\.\d+)?$/);
    }
    const by = await tlrAsync('compare', sweepDir(), '--by', 'lr,weights');
    expect(by.code, by.err).toBe(0);
    expect(by.out).toMatch(/^lr \\ weights/m);
    expect(by.out).toMatch(/^0\.001\s+\d+\.\d\d%.*\s-$/m);
    const bad = await tlrAsync('compare', sweepDir(), '--by', 'lr,head');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/varied values.* weights, lr \(not lr,head\)/);
  });

  it('--resume runs again only what did not finish', async () => {
    const before = record();
    fs.copyFileSync(path.join(path.dirname(world.weights), 'weights.bin'), path.join(broken, 'weights.bin'));
    const r = await tlrAsync('run', '--resume', sweepDir());
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/2 of 4 variants to run/);
    const after = record();
    expect(after.variants.map((v: { status: string }) => v.status)).toEqual([
      'finished',
      'finished',
      'finished',
      'finished',
    ]);
    expect(after.variants[0].runDir).toBe(before.variants[0].runDir);
    expect(contractErrors('sweep', after)).toEqual([]);
  }, 120_000);

  it('a damaged sweep.json is named, with what to do, and nothing is run', async () => {
    const copy = path.join(world.dir, 'runs', 'sweep', 'damaged');
    fs.mkdirSync(copy);
    fs.writeFileSync(path.join(copy, 'sweep.json'), '{"format": "tlr-sweep", "version": 1, "variants": [');
    const r = await tlrAsync('run', '--resume', copy);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/damaged\/sweep\.json is damaged: not JSON .*start the sweep again from its recipe/);
    expect(fs.readdirSync(copy)).toEqual(['sweep.json']);
  });

  it('Ctrl-C stops the sweep in a variant; --resume finishes that variant from its checkpoint, then the rest', async () => {
    const recipe = path.join(world.dir, 'stopped.tlr');
    fs.writeFileSync(
      recipe,
      `from mobilenet_v1 width 0.25 input 32 weights ${world.weights}\ntrain 60 epochs on ./data\n  lr {0.01, 0.003, 0.001}\nsplit 50/25/25\n`,
    );
    const child = spawn(process.execPath, [...cliArgs(), 'run', recipe], {
      cwd: world.dir,
      env: { ...process.env, CI: '1', NO_COLOR: '1' },
    });
    let out = '',
      err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => {
      const tick = setInterval(() => {
        // The second variant's run has begun its epochs: stop.
        if ((out.match(/epoch\s+3\/60/g) ?? []).length >= 2) {
          clearInterval(tick);
          child.kill('SIGINT');
        }
      }, 20);
      child.on('exit', (c) => {
        clearInterval(tick);
        resolve(c);
      });
    });
    expect(code, err).toBe(130);
    expect(err).toMatch(/sweep stopped; continue it with: tlr run --resume .*sweep-/);
    const top = path.join(world.dir, 'runs', 'stopped');
    const dir = path.join(top, fs.readdirSync(top).find((n) => n.startsWith('sweep-'))!);
    const read = () => JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8'));
    const stopped = read();
    expect(stopped.variants.map((v: { status: string }) => v.status)).toEqual(['finished', 'interrupted', 'pending']);
    const second = stopped.variants[1].runDir;
    expect(fs.existsSync(path.join(dir, second, 'checkpoint'))).toBe(true);

    const r = await tlrAsync('run', '--resume', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/2 of 3 variants to run/);
    const after = read();
    expect(after.variants.map((v: { status: string }) => v.status)).toEqual(['finished', 'finished', 'finished']);
    expect(after.variants[1].runDir).toBe(second); // continued, not started again
    const epochs = fs
      .readFileSync(path.join(dir, second, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(epochs).toHaveLength(60);
    expect(contractErrors('sweep', after)).toEqual([]);
  }, 180_000);

  it('keep best 1 after 3 epochs: the same winner as the full grid, in less time; the others stop early', async () => {
    const body = (keep: string) =>
      `from mobilenet_v1 width 0.25 input 32 weights ${world.weights}\ntrain 60 epochs on ./data\n` +
      `  lr {0.01, 0.00001, 0.000001}\nsplit 50/25/25\n${keep}`;
    const sweepOf = async (name: string, keep: string) => {
      const f = path.join(world.dir, `${name}.tlr`);
      fs.writeFileSync(f, body(keep));
      const r = await tlrAsync('run', f);
      expect(r.code, r.err).toBe(0);
      const top = path.join(world.dir, 'runs', name);
      const d = path.join(top, fs.readdirSync(top).find((n) => n.startsWith('sweep-'))!);
      return { r, s: JSON.parse(fs.readFileSync(path.join(d, 'sweep.json'), 'utf8')) };
    };
    const full = await sweepOf('grid', '');
    const halved = await sweepOf('halved', 'keep best 1 after 3 epochs\n');
    expect(contractErrors('sweep', halved.s)).toEqual([]);
    expect(halved.s.keep).toEqual({ best: 1, after: 3 });
    const statuses = halved.s.variants.map((v: { status: string }) => v.status);
    expect(statuses.filter((x: string) => x === 'finished')).toHaveLength(1);
    expect(statuses.filter((x: string) => x === 'stopped early')).toHaveLength(2);
    for (const v of halved.s.variants) expect(v.screen.epochs).toBe(3);
    const winner = (s: { variants: { id: string; status: string; evaluation: { accuracy: number } | null }[] }) =>
      s.variants
        .filter((v) => v.status === 'finished')
        .sort((a, b) => b.evaluation!.accuracy - a.evaluation!.accuracy)[0]!.id;
    expect(winner(halved.s)).toBe(winner(full.s));
    const seconds = (s: { variants: { seconds: number | null }[] }) =>
      s.variants.reduce((t, v) => t + (v.seconds ?? 0), 0);
    expect(seconds(halved.s)).toBeLessThan(seconds(full.s));
    expect(halved.r.out).toMatch(/val after 3/);
    // A screened variant is not a run to continue: no "interrupted … tlr run --resume" for it.
    expect(halved.r.out).toMatch(/screened after stage 1, epoch 3: the sweep compares its validation accuracy/);
    expect(halved.r.out).not.toMatch(/continue with tlr run --resume/);
    expect(halved.r.err).toMatch(/1 of 3 variants finished, 2 stopped early/);
  }, 240_000);
});
