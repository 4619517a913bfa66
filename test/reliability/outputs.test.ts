import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlr, tlrAsync } from '../helpers/cli.js';
import { makeWorld, recipe } from '../helpers/run-fixture.js';
import { evaluationText } from '../../src/text/evaluation.js';
import { minimumAtEdge } from '../../src/cli/commands/lr-find.js';

// "What tlr promises" on the surfaces added since the first rounds: every output path follows
// `save … to`'s rules (never a link, a device, a FIFO, a file tlr did not make without --force,
// nor anything in or around the data), user files are rewritten keeping their mode and never when
// read-only, a resume stays on its engine, and names from outside are escaped when printed.

let w: { dir: string; weights: string };
let model: string;
const data = () => path.join(w.dir, 'data');
const listing = () => execFileSync('find', [data(), '-printf', '%P %s\n'], { encoding: 'utf8' });

beforeAll(async () => {
  w = makeWorld({ perClass: 6 });
  const file = recipe(
    w.dir,
    `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 1 epoch on ./data\n  batch 8\n` +
      'split 50/25/25\n',
  );
  process.env['TLR_CACHE'] = path.join(w.dir, 'cache');
  const r = await tlrAsync('run', file);
  expect(r.code, r.err).toBe(0);
  const runs = path.join(w.dir, 'runs', 'recipe');
  model = path.join(runs, fs.readdirSync(runs)[0]!, 'model');
}, 120_000);

afterAll(() => {
  delete process.env['TLR_CACHE'];
  fs.rmSync(w.dir, { recursive: true, force: true });
});

describe('export writes only where save … to could', () => {
  it('never replaces a FIFO or a device, even with --force', async () => {
    const fifo = path.join(w.dir, 'pipe.onnx');
    execFileSync('mkfifo', [fifo]);
    const r = await tlrAsync('export', model, '--out', fifo, '--force');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`cannot export to ${fifo}: it is not a regular file (a device, FIFO or socket)`);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    const dev = await tlrAsync('export', model, '--out', '/dev/null', '--force');
    expect(dev.err).toContain('it is not a regular file');
  });

  it('never follows a link, even with --force', async () => {
    const target = path.join(w.dir, 'precious.txt'),
      link = path.join(w.dir, 'link.onnx');
    fs.writeFileSync(target, 'mine');
    fs.symlinkSync(target, link);
    const r = await tlrAsync('export', model, '--out', link, '--force');
    expect(r.err).toContain('it is a symbolic link');
    expect(fs.readFileSync(target, 'utf8')).toBe('mine');
  });

  it("never writes into the data folder of the model's run, in either form", async () => {
    const before = listing();
    const onnx = await tlrAsync('export', model, '--out', path.join(data(), 'bag', 'm.onnx'));
    expect(onnx.code).toBe(2);
    expect(onnx.err).toContain(`it is inside the data folder ${fs.realpathSync(data())}`);
    const folder = await tlrAsync('export', model, '--format', 'tfjs', '--out', path.join(data(), 'zz'));
    expect(folder.err).toContain('it is inside the data folder');
    const around = await tlrAsync('export', model, '--format', 'tfjs', '--out', w.dir, '--force');
    expect(around.err).toContain('it contains the data folder');
    expect(listing()).toBe(before);
  });

  it('--torchrun: a file, --format beside it, and a batch that does not divide are clear errors, writing nothing', async () => {
    const r = recipe(
      w.dir,
      `from resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ./data\n  batch 4\nsplit 50/25/25\n`,
    );
    const file = path.join(w.dir, 'notes.txt');
    fs.writeFileSync(file, 'keep');
    const onFile = await tlrAsync('export', r, '--torchrun', file);
    expect(onFile.code).toBe(2);
    expect(onFile.err).toContain('cannot write the job there: it is a file; give a folder');
    expect(fs.readFileSync(file, 'utf8')).toBe('keep');
    const fmt = await tlrAsync('export', r, '--torchrun', path.join(w.dir, 'job'), '--format', 'tfjs');
    expect(fmt.err).toContain('--format does not go with --torchrun');
    const three = await tlrAsync('export', r, '--torchrun', path.join(w.dir, 'job'), '--nproc', '3');
    expect(three.err).toContain("--nproc 3: stage 1's batch of 4 does not divide among 3 processes");
    expect(fs.existsSync(path.join(w.dir, 'job'))).toBe(false);
    const inData = await tlrAsync('export', r, '--torchrun', path.join(data(), 'job'));
    expect(inData.err).toContain('it is inside the data folder');
  });

  it('compare --out refuses the data folder and a FIFO', async () => {
    const run = path.dirname(model);
    const r = await tlrAsync('compare', run, '--out', path.join(data(), 'bag'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('it is inside the data folder');
    const fifo = path.join(w.dir, 'cmp');
    fs.mkdirSync(fifo);
    execFileSync('mkfifo', [path.join(fifo, 'compare.md')]);
    const f = await tlrAsync('compare', run, '--out', fifo);
    expect(f.err).toContain('it is not a regular file');
  });
});

describe("rewriting a user's file (fmt --write, lr-find --write)", () => {
  const messy = 'from   resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ./data\n';

  it('keeps its mode', () => {
    const f = path.join(w.dir, 'private.tlr');
    fs.writeFileSync(f, messy, { mode: 0o600 });
    fs.chmodSync(f, 0o600);
    expect(tlr('fmt', '--write', f).code).toBe(0);
    expect(fs.readFileSync(f, 'utf8')).not.toBe(messy);
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
  });

  it('refuses a read-only file, naming it, and leaves it as it was', async () => {
    const f = path.join(w.dir, 'locked.tlr');
    fs.writeFileSync(f, messy);
    fs.chmodSync(f, 0o444);
    const r = tlr('fmt', '--write', f);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${f} is read-only; nothing was changed there`);
    const l = await tlrAsync('lr-find', f, '--write');
    expect(l.code).toBe(1);
    expect(l.err).toContain(`${f} is read-only`);
    expect(fs.readFileSync(f, 'utf8')).toBe(messy);
    expect(fs.statSync(f).mode & 0o777).toBe(0o444);
  });

  it('rewrites the file a link names, and the link stays a link', () => {
    const real = path.join(w.dir, 'real.tlr'),
      link = path.join(w.dir, 'linked.tlr');
    fs.writeFileSync(real, messy);
    fs.symlinkSync(real, link);
    expect(tlr('fmt', '--write', link).code).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    const formatted = fs.readFileSync(real, 'utf8');
    expect(formatted).not.toBe(messy);
    expect(tlr('fmt', '--check', real).code).toBe(0);
  });
});

describe("resume stays on the run's engine", () => {
  const folder = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(w.dir, 'run-'));
    fs.copyFileSync(path.join(path.dirname(model), 'plan.json'), path.join(dir, 'plan.json'));
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    return dir;
  };

  it('a torch run resumed with --engine tfjs is refused before anything is touched', async () => {
    const markers: Record<string, string>[] = [
      { 'engine.json': '{"engine":"torch","settings":{"nproc":2}}' },
      { 'job.json': '{}' },
    ];
    for (const marker of markers) {
      const dir = folder(marker);
      const before = fs.readdirSync(dir).sort();
      const r = await tlrAsync('run', '--resume', dir, '--engine', 'tfjs');
      expect(r.code).toBe(2);
      expect(r.err).toContain('is a run of the torch engine; only it can read its checkpoint');
      expect(fs.readdirSync(dir).sort()).toEqual(before);
    }
  });

  it('a tfjs run resumed with --engine torch is refused', async () => {
    const r = await tlrAsync('run', '--resume', path.dirname(model), '--engine', 'torch');
    expect(r.code).toBe(2);
    expect(r.err).toContain('is a run of the tfjs engine');
  });

  it('a damaged engine.json is named', async () => {
    const dir = folder({ 'engine.json': '{"engine": 3' });
    const r = await tlrAsync('run', '--resume', dir);
    expect(r.err).toContain(`${path.join(dir, 'engine.json')} is damaged`);
  });
});

describe('names from outside are escaped wherever they are printed', () => {
  const hostile = ['bag\x1b[2J', 'trouser\u202e', 'tshirt'];

  it('predict --csv escapes labels', async () => {
    const copy = path.join(w.dir, 'hostile-model');
    fs.cpSync(model, copy, { recursive: true });
    fs.writeFileSync(path.join(copy, 'labels.json'), JSON.stringify(hostile));
    const img = path.join(data(), 'bag', fs.readdirSync(path.join(data(), 'bag'))[0]!);
    const r = await tlrAsync('predict', copy, img, '--csv', '--top', '3');
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toMatch(/[\x1b\u202e]/);
    expect(r.out).toContain('bag\\x1b[2J');
  });

  it("eval's text escapes class names", () => {
    const ev = {
      split: 'test' as const,
      images: 2,
      loss: 0.1,
      accuracy: 1,
      macroF1: 1,
      classes: hostile.slice(0, 2).map((name) => ({ name, precision: 1, recall: 1, f1: 1, support: 1 })),
      confusion: [
        [1, 0],
        [0, 1],
      ],
    };
    const text = evaluationText(ev);
    expect(text).not.toMatch(/[\x1b\u202e]/);
    expect(text).toContain('trouser\\u202e');
  });
});

describe('lr-find and a minimum at the edge of the range', () => {
  const curve = (smoothed: number[], diverged = false) => {
    const lrs = smoothed.map((_, i) => 10 ** (i - 7));
    const min = smoothed.indexOf(Math.min(...smoothed));
    return {
      lrs,
      losses: smoothed,
      smoothed,
      suggestion: lrs[min]! / 10,
      rule: 'r',
      minimum: lrs[min]!,
      steepest: 1,
      diverged,
    };
  };
  it('warns when the loss is lowest at the last step reached (it was still falling)', () => {
    expect(minimumAtEdge(curve([3, 2, 1, 0.5]))).toContain('still falling at the end');
    expect(minimumAtEdge(curve([0.1, 2, 3, 4]))).toContain('lowest at the first step');
    expect(minimumAtEdge(curve([3, 1, 2, 9]))).toBeNull();
  });
});
