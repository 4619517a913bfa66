import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnAsync, tlrProcess } from '../helpers/cli.js';
import { findTorchPython, hasTorch } from '../../src/engines/torch/python.js';
import { HEAVY } from '../helpers/heavy.js';

// Code in the folder tlr starts in never runs: `python3 -m` puts the working folder first on sys.path, so a
// pull request's numpy.py would run as the torch engine imports numpy. tlr starts Python without it, in doctor,
// in `tlr run --engine torch`, and in the ranks that a job folder's launcher starts.

const py = await findTorchPython();
const why = hasTorch(py) ? '' : 'no Python with torch and torchvision';
if (why) console.warn(`skipping the Python path tests: ${why}`);
const d = why ? describe.skip : describe;
const FLOWERS = path.resolve(__dirname, '../fixtures/data/flowers');

/** A folder whose numpy.py, PIL/ and torch.py would leave INJECTED beside them if imported. */
function trap(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-pypath-'));
  const mark = `import pathlib; pathlib.Path(${JSON.stringify(path.join(dir, 'INJECTED'))}).write_text("ran")\n`;
  fs.writeFileSync(path.join(dir, 'numpy.py'), `${mark}raise ImportError("a trap")\n`);
  fs.writeFileSync(path.join(dir, 'torch.py'), mark);
  fs.mkdirSync(path.join(dir, 'PIL'));
  fs.writeFileSync(path.join(dir, 'PIL', '__init__.py'), mark);
  return dir;
}

d('a working folder with numpy.py, torch.py and PIL/', () => {
  it('tlr doctor imports none of them and finds torch usable', async () => {
    const cwd = trap();
    const r = await tlrProcess(['doctor'], { cwd });
    expect(r.out).toMatch(/torch {6}usable: /);
    expect(fs.existsSync(path.join(cwd, 'INJECTED'))).toBe(false);
  });

  // Two torch runs (half a minute on 2 cores): with TLR_HEAVY=1 (npm run test:heavy, in .ci/run).
  it.skipIf(!HEAVY)(
    'tlr run --engine torch (2 processes) and a job folder launched from there import none of them',
    async () => {
      const cwd = trap();
      const recipe = path.join(cwd, 'r.tlr');
      fs.writeFileSync(
        recipe,
        `from resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ${FLOWERS}\n  batch 4\n`,
      );
      const r = await tlrProcess(['run', recipe, '--engine', 'torch', '--nproc', '2', '--json'], { cwd });
      expect(r.code, r.err).toBe(0);
      expect(fs.existsSync(path.join(cwd, 'INJECTED'))).toBe(false);
      const job = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-pyjob-')), 'job');
      expect((await tlrProcess(['export', recipe, '--torchrun', job], { cwd })).code).toBe(0);
      const env = { ...process.env, LAUNCHER: 'tlr', PYTHON: hasTorch(py) ? py.python : 'python3' };
      const l = await spawnAsync(path.join(job, 'launch.sh'), [], { cwd, env });
      expect(l.status, l.stderr).toBe(0);
      expect(fs.existsSync(path.join(job, 'report.json'))).toBe(true);
      expect(fs.existsSync(path.join(cwd, 'INJECTED'))).toBe(false);
    },
  );
});
