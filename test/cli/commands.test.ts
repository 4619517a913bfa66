import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeWithTsx, ROOT, spawnAsync, tlr, tlrAsync, tlrProcess } from '../helpers/cli.js';
import { planErrors } from '../../src/contracts/validate.js';
import { loadOrt } from '../../src/engines/tfjs/onnx/runtime.js';

const FIX = path.resolve(__dirname, '../fixtures');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-cli-'));

describe('tlr check', () => {
  it('prints ok and exits 0 for a clean recipe', () => {
    const r = tlr('check', `${FIX}/valid/oneliner.tlr`);
    expect(r.code).toBe(0);
    expect(r.out).toContain('oneliner.tlr: ok');
  });

  it('prints file:line:col, a code frame and hints, and exits 1 on errors', () => {
    const r = tlr('check', `${FIX}/invalid/unknown-model.tlr`);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/unknown-model\.tlr:1:6: error\[TLR1002\]: there is no model named `resnet43`/);
    expect(r.out).toContain('1 | from resnet43\n  |      ^^^^^^^^');
    expect(r.out).toContain('= hint: did you mean `resnet18`, `resnet34`, `resnet50`?');
  });

  it('exits 0 with warnings only', () => {
    const r = tlr('check', `${FIX}/valid/warn-freeze-random.tlr`);
    expect(r.code).toBe(0);
    expect(r.out).toContain('warning[TLR1104]');
  });

  it('checks several files and fails if any fails', () => {
    const r = tlr('check', `${FIX}/valid/oneliner.tlr`, `${FIX}/invalid/twice.tlr`);
    expect(r.code).toBe(1);
    expect(r.out).toContain('oneliner.tlr: ok');
    expect(r.out).toContain('twice.tlr: 2 errors');
  });

  it('--json prints the diagnostics as a JSON array with the same fields', () => {
    const r = tlr('check', '--json', `${FIX}/invalid/unknown-layer.tlr`);
    expect(r.code).toBe(1);
    const ds = JSON.parse(r.out);
    expect(ds).toHaveLength(2);
    expect(ds[0]).toMatchObject({ code: 'TLR1101', severity: 'error', span: { start: { line: 2, column: 14 } } });
    expect(ds[0].hints[0]).toContain('block13');
  });

  it('names a missing recipe and exits 2', () => {
    const r = tlr('check', '/nonexistent/x.tlr');
    expect(r.code).toBe(2);
    expect(r.err).toContain('recipe /nonexistent/x.tlr does not exist');
  });
});

describe('tlr plan', () => {
  it('prints what will happen', () => {
    const r = tlr('plan', `${FIX}/valid/two-stage.tlr`);
    expect(r.code).toBe(0);
    for (const s of [
      'mobilenet_v1 width 0.25',
      'stage 1',
      'stage 3',
      'features   cached',
      'frozen',
      'trainable',
      'validation: ../data/flowers-val',
      'daisy',
    ])
      expect(r.out).toContain(s);
  });

  it('--json prints a plan valid against the schema', () => {
    const r = tlr('plan', '--json', `${FIX}/valid/full.tlr`);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out);
    expect(planErrors(plan)).toEqual([]);
    expect(plan).toMatchObject({ format: 'tlr-plan', version: 1 });
  });

  it('prints diagnostics on stderr and exits 1 for a broken recipe', () => {
    const r = tlr('plan', `${FIX}/invalid/head-classes.tlr`);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('TLR1204');
  });
});

describe('tlr fmt', () => {
  it('prints the canonical layout', () => {
    const r = tlr('fmt', `${FIX}/valid/messy.tlr`);
    expect(r.code).toBe(0);
    expect(r.out).toBe(fs.readFileSync(`${FIX}/valid/messy.tlr.fmt`, 'utf8'));
  });

  it('--check fails on a non-canonical file, --write fixes it, then --check passes', () => {
    const dir = tmp();
    const f = path.join(dir, 'r.tlr');
    fs.copyFileSync(`${FIX}/valid/messy.tlr`, f);
    expect(tlr('fmt', '--check', f).code).toBe(1);
    const w = tlr('fmt', '--write', f);
    expect(w.code).toBe(0);
    expect(w.out).toContain('formatted');
    expect(fs.readdirSync(dir)).toEqual(['r.tlr']);
    expect(tlr('fmt', '--check', f)).toMatchObject({ code: 0, out: '' });
  });

  it('refuses to format a recipe with syntax errors', () => {
    const r = tlr('fmt', `${FIX}/invalid/syntax.tlr`);
    expect(r.code).toBe(1);
    expect(r.err).toContain('fix the syntax errors first');
  });
});

describe('tlr models', () => {
  it('lists the zoo', () => {
    const r = tlr('models');
    expect(r.code).toBe(0);
    for (const n of ['alexnet', 'vgg16', 'resnet152', 'densenet161', 'inception_v3', 'mobilenet_v1', 'mobilenet_v2'])
      expect(r.out).toContain(n);
    expect(r.out).toContain('11,689,512');
  });

  it("lists one network's blocks and numbered layers", () => {
    const r = tlr('models', 'resnet18');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/block3\s+layer3\s+layer3\.0\.conv1 \.\. layer3\.1\.relu/);
    expect(r.out).toMatch(/1\s+conv1\s+stem\s+conv/);
  });

  it('takes --width for MobileNets and says when a width does not exist', () => {
    expect(tlr('models', 'mobilenet_v2', '--width', '0.35').out).toContain('width 0.35');
    const r = tlr('models', 'mobilenet_v2', '--width', '0.6');
    expect(r.code).toBe(2);
    expect(r.err).toContain('has no width 0.6');
  });

  it('suggests names for an unknown model', () => {
    const r = tlr('models', 'resnet19');
    expect(r.code).toBe(2);
    expect(r.err).toContain('did you mean');
  });
});

describe('tlr doctor', () => {
  // These read the TensorFlow.js and ONNX Runtime lines: the torch engine's probe (a Python importing torch, 2 s of
  // CPU each time) is pointed at no Python; its own lines are tested with the torch engine.
  const doctor = (env: NodeJS.ProcessEnv) =>
    tlrProcess(['doctor'], { env: { TLR_PYTHON: path.join(os.tmpdir(), 'tlr-no-python'), ...env } });

  it('says which backend a run uses, with how many inference worker threads, and where the cache is', async () => {
    const r = await doctor({ TLR_WORKERS: '0', TLR_CACHE: tmp() });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/yes {2}wasm +@tensorflow\/tfjs-backend-wasm +loads/);
    expect(r.out).toMatch(/run would use: wasm \(SIMD on; convolutions: /);
    expect(r.out).toContain('TensorFlow.js programs: this thread only (TLR_WORKERS)');
    expect(r.out).toContain('training   one thread (TLR_WORKERS sets more)');
    const three = (await doctor({ TLR_WORKERS: '3', TLR_CONV: 'wasm' })).out;
    expect(three).toContain('convolutions: wasm (XNNPACK), as TLR_CONV=wasm asks');
    expect(three).toContain('TensorFlow.js programs: 3 worker threads (TLR_WORKERS)');
    expect(three).toContain(
      'training   stages that train backbone layers share each batch among 3 threads (this one and 2 workers)',
    );
  });

  it.skipIf(!('ort' in loadOrt()))(
    'says convolutions run on ONNX Runtime, a stage then on one thread; names a bad TLR_CONV',
    async () => {
      const r = (await doctor({ TLR_WORKERS: '3', TLR_ORT_THREADS: '2' })).out;
      expect(r).toMatch(/convolutions: ONNX Runtime \d+\.\d+\.\d+ \(native CPU kernels, 2 threads\)/);
      expect(r).toContain(
        "training   convolutions on ONNX Runtime's 2 threads, the rest on this thread (TLR_CONV=wasm runs them " +
          'in wasm and shares each batch among 3 threads)',
      );
      const bad = (await doctor({ TLR_CONV: 'gpu' })).out;
      expect(bad).toContain("convolutions: wasm (XNNPACK): TLR_CONV must be ort or wasm, not 'gpu'");
    },
  );

  it.skipIf(!('ort' in loadOrt()))(
    'lists ONNX Runtime with its version, threads and execution providers; TLR_INFERENCE turns it off ' +
      'or names a bad value',
    async () => {
      const r = await doctor({ TLR_ORT_THREADS: '3' });
      expect(r.out).toMatch(
        /inference {2}ONNX Runtime \d+\.\d+\.\d+ \(onnxruntime-node\), 3 threads \(TLR_ORT_THREADS\); execution providers: cpu/,
      );
      expect(r.out).toContain('not tested here');
      expect((await doctor({ TLR_INFERENCE: 'tfjs' })).out).toMatch(
        /inference {2}TensorFlow.js programs \(TLR_INFERENCE=tfjs\); ONNX Runtime .* is installed/,
      );
      expect((await doctor({ TLR_INFERENCE: 'fast' })).out).toContain(
        "inference  TLR_INFERENCE must be onnx or tfjs, not 'fast'",
      );
    },
  );
});

describe('what commands load', () => {
  it('check, plan, fmt, diff, explain and models never load TensorFlow.js or ONNX Runtime; doctor does', async () => {
    const hook = ['--import', path.join(ROOT, 'test/helpers/report-engines.mjs')];
    const loads = async (...args: string[]) => {
      const r = await spawnAsync(process.execPath, [
        ...hook,
        ...nodeWithTsx(path.join(ROOT, 'src/cli/bin.ts'), ...args),
      ]);
      return r.stderr.split('\n').filter((l) => l.startsWith('loads '));
    };
    const commands = [
      ['check', `${FIX}/valid/oneliner.tlr`],
      ['plan', `${FIX}/valid/oneliner.tlr`],
      ['fmt', `${FIX}/valid/oneliner.tlr`],
      ['diff', `${FIX}/valid/oneliner.tlr`, `${FIX}/valid/oneliner.tlr`],
      ['explain', `${FIX}/valid/oneliner.tlr`],
      ['models', 'resnet18'],
      ['fetch', `${FIX}/valid/scratch.tlr`],
    ];
    // One process runs them all in turn; each load is reported under the command that made it.
    const all = await spawnAsync(process.execPath, [
      ...hook,
      ...nodeWithTsx(path.join(ROOT, 'test/helpers/commands-driver.ts'), JSON.stringify(commands)),
    ]);
    const seen: Record<string, string[]> = {};
    let at = '';
    for (const l of all.stderr.split('\n')) {
      if (l.startsWith('=== ')) at = l.slice(4);
      else if (l.startsWith('loads ')) seen[at] = [...(seen[at] ?? []), l];
    }
    expect(Object.keys(seen).length ? seen : {}, all.stderr).toEqual({});
    expect(all.stderr.match(/^=== /gm)).toHaveLength(commands.length);
    // The hook sees imports: a command that runs models shows it is watching.
    const doctor = await loads('doctor');
    expect(doctor.some((l) => l.includes('@tensorflow/'))).toBe(true);
    if ('ort' in loadOrt()) expect(doctor.some((l) => l.includes('onnxruntime-node'))).toBe(true);
  });
});

describe('usage errors', () => {
  it('names an unknown command and an unknown flag', async () => {
    expect(tlr('frobnicate').err).toContain('unknown command frobnicate');
    const r = tlr('check', '--nope', 'x.tlr');
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--nope'");
  });

  it.each([
    ['run', `${FIX}/valid/oneliner.tlr`],
    ['predict', FIX, 'x.png'],
  ])('an unknown --backend is a usage error for %s (exit 2, the backends listed)', async (cmd, ...rest) => {
    const r = await tlrAsync(cmd!, ...rest, '--backend', 'gpu');
    expect([r.code, r.err.trim()]).toEqual([
      2,
      'tlr: unknown backend gpu; backends: tensorflow-gpu, tensorflow, wasm, cpu',
    ]);
  });
});

describe('as a process', () => {
  it('checks and plans the README one-liner', async () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'strawberries/healthy'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'strawberries/diseased'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'strawberries/healthy/a.jpg'), 'x');
    fs.writeFileSync(path.join(dir, 'strawberries/diseased/b.jpg'), 'x');
    fs.writeFileSync(
      path.join(dir, 'recipe.tlr'),
      'from resnet34 freeze until block3 head dense(2) train 10 epochs on ./strawberries\n',
    );
    // One image per class leaves nothing to validate on: an error with the counts, not a run on nothing.
    const one = await tlrProcess(['check', 'recipe.tlr'], { cwd: dir });
    expect([one.code, one.out]).toEqual([
      1,
      expect.stringContaining(
        'error[TLR1310]: split 80/20 of 2 images leaves 0 validation images (per class: diseased 1/0, healthy 1/0)',
      ),
    ]);
    for (let i = 0; i < 4; i++)
      for (const c of ['healthy', 'diseased']) fs.writeFileSync(path.join(dir, `strawberries/${c}/${i}.jpg`), 'x');
    expect(await tlrProcess(['check', 'recipe.tlr'], { cwd: dir })).toMatchObject({ code: 0 });
    const p = await tlrProcess(['plan', '--json', 'recipe.tlr'], { cwd: dir });
    expect(p.code).toBe(0);
    expect(JSON.parse(p.out).stages[0].frozen.through).toBe('layer3.5.relu');
  });
});
