import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnAsync, tlrAsync } from '../helpers/cli.js';
import { HOSTILE_FILE_NAMES, HOSTILE_RECIPE_NAMES } from '../helpers/hostile.js';

// Generated scripts (launch.sh, slurm.sbatch, a sweep's sweep.sbatch and variants.tsv) hold no text from a recipe:
// a recipe named `x$(touch P)y`, a data folder whose path holds a newline, a variant's name with quotes run
// nothing when the job starts, and every script parses (bash -n).

const FLOWERS = path.resolve(__dirname, '../fixtures/data/flowers');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-scripts-'));

/** A data folder at a hostile path: the flowers copied under a folder of that name. */
function hostileData(root: string, name: string): string {
  const d = path.join(root, name, 'data');
  fs.cpSync(FLOWERS, d, { recursive: true });
  return d;
}

/** Every file under `dir` named INJECTED (what the corpus's commands would create). */
const injected = (...dirs: string[]): string[] =>
  dirs.flatMap((d) =>
    fs
      .readdirSync(d, { recursive: true, encoding: 'utf8' })
      .filter((f) => path.basename(f) === 'INJECTED')
      .map((f) => path.join(d, f)),
  );

/** A stand-in Python: answers the import probe, and records the launcher's arguments instead of training. */
function stubPython(dir: string): string {
  const py = path.join(dir, 'python-stub');
  fs.writeFileSync(py, '#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$STUB_LOG"\nexit 0\n', { mode: 0o755 });
  return py;
}

describe('export --torchrun with hostile recipe names and data paths', () => {
  it('writes scripts that hold none of them, parse, and run nothing they say', async () => {
    const root = tmp();
    const cwd = path.join(root, 'cwd');
    fs.mkdirSync(cwd);
    const py = stubPython(root);
    const names = [...HOSTILE_FILE_NAMES.slice(0, 8), "Bob's cats", 'x`touch INJECTED`y'];
    for (const [i, name] of names.entries()) {
      // The recipe stands beside its data in a folder of that name (`on ./data`: the path resolves with it), and
      // its file name is its name when it has no `recipe` statement: a newline can stand in both.
      const data = hostileData(path.join(root, `d${i}`), name);
      const file = path.join(path.dirname(data), `${name}.tlr`);
      fs.writeFileSync(
        file,
        'from resnet18 weights none input 32\nhead dense(3)\ntrain 1 epoch on ./data\n  batch 4\n',
      );
      const job = path.join(root, `job${i}`);
      const r = await tlrAsync('export', file, '--torchrun', job);
      expect(r.code, `${JSON.stringify(name)}: ${r.err}`).toBe(0);
      for (const script of ['launch.sh', 'slurm.sbatch']) {
        const text = fs.readFileSync(path.join(job, script), 'utf8');
        // A name of file-safe letters may stand as a Slurm job name or rendezvous id; any other never does.
        if (/[^A-Za-z0-9._-]/.test(name)) expect(text, `${script} of ${JSON.stringify(name)}`).not.toContain(name);
        expect(text).not.toContain(data);
        execFileSync('bash', ['-n', path.join(job, script)]);
      }
      const log = path.join(root, `log${i}`);
      const run = await spawnAsync(path.join(job, 'launch.sh'), [], {
        cwd,
        env: { ...process.env, PYTHON: py, LAUNCHER: 'tlr', STUB_LOG: log },
      });
      expect(run.status, run.stderr).toBe(0);
      // The launcher got the job folder and its flags, one argument each.
      expect(fs.readFileSync(log, 'utf8').split('\n').slice(0, 4)).toEqual(['-m', 'tlr_torch', 'launch', '--nproc']);
    }
    expect(injected(root)).toEqual([]);
  });

  it("a sweep's array and variants.tsv: variant names are data, not shell", async () => {
    const root = tmp();
    const data = hostileData(root, 'x$(touch INJECTED)y');
    // Variant names come from the recipe's text: the alternatives' strings carry their characters into the name.
    const file = path.join(path.dirname(data), 'sweep.tlr');
    const names = HOSTILE_RECIPE_NAMES.slice(0, 3).map((n) => `"${n}"`);
    fs.writeFileSync(
      file,
      `recipe {${names.join(', ')}}\nfrom resnet18 weights none input 32\nhead dense(3)\n` +
        'train 1 epoch on ./data\n  batch 4\n',
    );
    const out = path.join(root, 'jobs');
    const r = await tlrAsync('export', file, '--torchrun', out);
    expect(r.code, r.err).toBe(0);
    const array = fs.readFileSync(path.join(out, 'sweep.sbatch'), 'utf8');
    execFileSync('bash', ['-n', path.join(out, 'sweep.sbatch')]);
    expect(array).not.toContain('$(touch');
    const tsv = fs.readFileSync(path.join(out, 'variants.tsv'), 'utf8').trimEnd().split('\n');
    expect(tsv[0]).toBe('index\tid\tvariant');
    expect(tsv).toHaveLength(4);
    expect(injected(root)).toEqual([]);
  });
});
