import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, registerEngine, type EngineDef, type RunRequest } from '../../src/engines/index.js';
import { openRunFolder } from '../../src/runtime/run-folder.js';
import { compile } from '../../src/compiler/index.js';
import { tlr, tlrAsync } from '../helpers/cli.js';

// Adding an engine is one folder and one row: a fake third engine, registered at run time, is
// reached by every command through the table, with no change to any command.

const runs: RunRequest[] = [];
const fake: EngineDef = {
  name: 'fake',
  summary: 'a test engine that records what it is asked',
  flags: { speed: { type: 'string', value: 'N', help: 'how fast' } },
  async settle(flags, recorded) {
    const speed = Number(flags['speed'] ?? recorded?.['speed'] ?? 1);
    if (!Number.isInteger(speed))
      throw new (await import('../../src/errors.js')).UsageError(`--speed ${flags['speed']}: give a whole number`);
    return { speed };
  },
  unsupported: (plan) => (plan.model.name === 'vgg16' ? 'the fake engine has no vgg16' : null),
  missing: () => null,
  usage: 'tlr run RECIPE --engine fake [--speed N]',
  startsPerRun: true,
  doctor: async () => ({ lines: ['fake       ready, speed 1'], versions: 'Fake 0.1' }),
  ownsRun: (dir) => fs.existsSync(path.join(dir, 'fake.json')),
  async run(req) {
    runs.push(req);
    const f = openRunFolder(
      {
        plan: req.plan!,
        recipeText: req.recipeText,
        resume: req.resume,
        engine: { engine: 'fake', settings: req.settings },
      },
      [],
    );
    req.events.emit({
      type: 'plan',
      plan: f.plan,
      runDir: f.dir,
      backend: `fake at speed ${req.settings['speed']}`,
      resumed: f.resumed,
    });
    fs.writeFileSync(path.join(f.dir, 'metrics.jsonl'), '');
    req.events.emit({ type: 'interrupted', runDir: f.dir, stage: 1, epoch: 0 });
    f.release(); // an engine gives its run folder's lock back when its run ends, as both real engines do
    return { runDir: f.dir, status: 'interrupted', evaluation: null };
  },
  exports: [
    {
      flag: 'fakejob',
      marker: '.fake-job',
      help: 'a fake job folder',
      flags: {},
      async write(_plan, _text, out) {
        fs.mkdirSync(out, { recursive: true });
        fs.writeFileSync(path.join(out, 'job'), 'fake');
        return [];
      },
      written: (out) => `written: ${out} (fake)`,
    },
  ],
};

let dir: string, recipe: string, undo: () => void;
beforeAll(() => {
  undo = registerEngine(fake);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-fake-engine-'));
  fs.cpSync(path.resolve(__dirname, '../fixtures/data/flowers'), path.join(dir, 'flowers'), { recursive: true });
  recipe = path.join(dir, 'r.tlr');
  fs.writeFileSync(
    recipe,
    'from resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ./flowers\n  batch 2\n',
  );
});
afterAll(() => {
  undo();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the engine table', () => {
  it('every row answers as the table promises: a usage line, settings from no flags, a plan it can or cannot run', async () => {
    const plan = compile(fs.readFileSync(recipe, 'utf8'), { file: recipe }).plan!;
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-engine-row-'));
    for (const e of engines()) {
      expect(e.summary.length, e.name).toBeGreaterThan(20);
      expect(e.usage, e.name).toMatch(/tlr run/);
      const settings = await e.settle({});
      for (const v of Object.values(settings)) expect(['string', 'number', 'boolean'], e.name).toContain(typeof v);
      const why = e.unsupported(plan);
      if (why !== null) expect(why, e.name).toMatch(/^[^\n]+$/);
      const missing = e.missing();
      if (missing !== null) expect(missing.length, e.name).toBeGreaterThan(0);
      expect(e.ownsRun(empty), `${e.name} owns an empty folder`).toBe(false);
      for (const [name, f] of Object.entries(e.flags)) expect(f.help.length, `${e.name} --${name}`).toBeGreaterThan(0);
    }
    fs.rmSync(empty, { recursive: true });
    expect(engines().some((e) => e.models)).toBe(true);
  });

  it('runs a recipe on a registered engine with its own flag, and records the engine in the run folder', async () => {
    const r = await tlrAsync('run', recipe, '--engine', 'fake', '--speed', '3');
    expect(r.code, r.err).toBe(130);
    expect(r.out).toContain('backend fake at speed 3');
    expect(runs.at(-1)!.settings).toEqual({ speed: 3 });
    const runDir = /→ (\S+)/.exec(r.out)![1]!;
    // The run folder records the engine for every engine, a third one too, and which recipe the run came from.
    expect(JSON.parse(fs.readFileSync(path.resolve(runDir, 'engine.json'), 'utf8'))).toEqual({
      engine: 'fake',
      settings: { speed: 3 },
      recipe: { digest: expect.stringMatching(/^[0-9a-f]{64}$/), path: expect.stringMatching(/r\.tlr$/), git: null },
    });
  });

  it('a flag of an engine not chosen is a usage error naming its engine', async () => {
    const r = await tlrAsync('run', recipe, '--speed', '3');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--speed is an option of the fake engine: add --engine fake');
    expect((await tlrAsync('run', recipe, '--engine', 'fake', '--speed', 'x')).err).toContain(
      '--speed x: give a whole number',
    );
    expect((await tlrAsync('run', recipe, '--engine', 'nope')).err).toContain('the engines are tfjs, torch, fake');
  });

  it("resume stays on the run's engine with its recorded settings; another --engine is refused", async () => {
    const first = await tlrAsync('run', recipe, '--engine', 'fake', '--speed', '5');
    const runDir = path.resolve(/→ (\S+)/.exec(first.out)![1]!);
    const again = await tlrAsync('run', '--resume', runDir);
    expect(again.out).toContain('backend fake at speed 5');
    expect(again.out).toContain("resuming on the fake engine with the run's speed 5");
    expect(runs.at(-1)!.resume).toBe(runDir);
    const faster = await tlrAsync('run', '--resume', runDir, '--speed', '7');
    expect(faster.out).toContain('resuming with speed 7, as the command line asks (the run used 5)');
    const other = await tlrAsync('run', '--resume', runDir, '--engine', 'tfjs');
    expect(other.code).toBe(2);
    expect(other.err).toContain('is a run of the fake engine; only it can read its checkpoint');
  });

  it('plan says which engines can run the recipe, from each row', () => {
    expect(tlr('plan', recipe).out).toMatch(
      /engines +tfjs \(default\) · torch: .* · fake: available here \(tlr run RECIPE --engine fake \[--speed N\]; tlr doctor/,
    );
    const vgg = path.join(dir, 'vgg.tlr');
    fs.writeFileSync(vgg, 'from vgg16 weights none input 32\nhead dense(3)\ntrain 1 epoch on ./flowers\n');
    expect(tlr('plan', vgg).out).toContain('fake: no (the fake engine has no vgg16)');
  });

  it("export reaches the engine's recipe export by its flag", async () => {
    const out = path.join(dir, 'job');
    const r = await tlrAsync('export', recipe, '--fakejob', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`written: ${out} (fake)`);
    expect(fs.readFileSync(path.join(out, 'job'), 'utf8')).toBe('fake');
  });

  it("doctor prints the engine's section and version", async () => {
    const r = await tlrAsync('doctor');
    expect(r.out).toContain('fake       ready, speed 1');
    expect(r.out).toMatch(/versions {3}Node\.js .* · Fake 0\.1/);
  }, 60_000);
});

describe("the torch engine's machine flags", () => {
  const torch = engines().find((e) => e.name === 'torch')!;
  it.each([
    [{ 'node-rank': '1' }, /--node-rank is for a run on several machines: give --nnodes too/],
    [{ nnodes: '2', 'node-rank': '0' }, /--nnodes 2 needs --master-addr, --master-port/],
    [{ nnodes: '2', 'node-rank': '2', 'master-addr': 'h', 'master-port': '1' }, /--node-rank 2: give .* 0 to 1/],
    [{ nnodes: '2', 'node-rank': '0', 'master-addr': 'h', 'master-port': '70000' }, /--master-port 70000/],
  ])('refuses %o', async (flags, message) => {
    await expect(torch.settle(flags)).rejects.toThrow(message);
  });
  it('settles several machines; one machine records nothing of them', async () => {
    const s = await torch.settle({ nnodes: '2', 'node-rank': '1', 'master-addr': 'h', 'master-port': '29500' });
    expect(s).toMatchObject({ nnodes: 2, 'node-rank': 1, 'master-addr': 'h', 'master-port': 29500 });
    expect(Object.keys(await torch.settle({ nnodes: '1' }))).toEqual(['nproc', 'device', 'amp']);
  });
});
