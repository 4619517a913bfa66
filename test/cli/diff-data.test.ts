import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlr, tlrAsync } from '../helpers/cli.js';
import { makeWorld } from '../helpers/run-fixture.js';

// `tlr diff` sees a change of data: a side read from git is compiled against the data that revision had (through
// git's tree when the data is in git, else as the runs made at that revision recorded it), and an empty diff only
// says "comments and layout only" once the data was compared too.

const run = promisify(execFile);
const git = (cwd: string, ...args: string[]) =>
  run('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd });

let world: ReturnType<typeof makeWorld>;
const recipe = () => `from mobilenet_v1 width 0.25 input 32 weights ${world.weights}
train 1 epoch on ./data
split 50/50
`;

/** A repository holding r.tlr and a copy of the world's data (ignored by git when `ignored`), committed. */
async function team(name: string, ignored: boolean): Promise<string> {
  const repo = path.join(world.dir, name);
  fs.mkdirSync(repo);
  fs.cpSync(path.join(world.dir, 'data'), path.join(repo, 'data'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'r.tlr'), recipe());
  if (ignored) fs.writeFileSync(path.join(repo, '.gitignore'), 'data/\nruns/\n');
  await git(repo, 'init', '-q', '-b', 'main');
  await git(repo, 'add', '.');
  await git(repo, 'commit', '-qm', 'v1');
  return repo;
}

/** `tlr diff` run from `cwd` with temporary files in a folder of its own (which it must leave empty). */
function diffIn(cwd: string, ...args: string[]) {
  const here = process.cwd(),
    tmp = process.env['TMPDIR'];
  const own = fs.mkdtempSync(path.join(world.dir, 'tmp-'));
  process.chdir(cwd);
  process.env['TMPDIR'] = own;
  try {
    return { ...tlr('diff', ...args), left: fs.readdirSync(own) };
  } finally {
    process.chdir(here);
    if (tmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = tmp;
  }
}

beforeAll(() => {
  world = makeWorld({ perClass: 6 });
});
afterAll(() => fs.rmSync(world.dir, { recursive: true, force: true }));

describe('tlr diff compares the data each revision had', () => {
  it("data in git: a class renamed and one added show, read through git's tree; nothing is left behind", async () => {
    const repo = await team('tracked', false);
    await git(repo, 'mv', 'data/tshirt', 'data/top');
    const r = diffIn(repo, 'HEAD:r.tlr', 'r.tlr');
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain("data before: HEAD's, read through git");
    expect(r.out).toContain('data after: as it is now');
    expect(r.out).toContain('~ classes: bag, trouser, tshirt → bag, top, trouser');
    expect(r.left).toEqual([]);
    fs.cpSync(path.join(repo, 'data/bag'), path.join(repo, 'data/coat'), { recursive: true });
    await git(repo, 'add', '.');
    await git(repo, 'commit', '-qm', 'top, and coats');
    const both = diffIn(repo, '--git', 'HEAD~1', 'HEAD');
    expect(both.code, both.err + both.out).toBe(1);
    expect(both.out).toContain("data before: HEAD~1's, read through git");
    expect(both.out).toContain("data after: HEAD's, read through git");
    expect(both.out).toContain('~ classes: bag, trouser, tshirt → bag, coat, top, trouser');
    expect(both.out).toMatch(/^r\.tlr: the recipe is the same; files in its data changed$/m);
    expect(both.out).toContain('images per class: bag 3/3/-, trouser 3/3/-, tshirt 3/3/- → bag 3/3/-, coat 3/3/-');
    // The same data on both sides: an empty diff may say so, and says which data it compared.
    const same = diffIn(repo, 'HEAD:r.tlr', 'r.tlr');
    expect(same.out).toContain("data before: HEAD's, read through git");
    expect([same.code, same.out.trim().split('\n').pop()]).toEqual([
      0,
      'no change in what runs (comments and layout only)',
    ]);
  });

  it('data not in git: not compared until a run made at the revision recorded it; then its change shows', async () => {
    const repo = await team('ignored', true);
    fs.renameSync(path.join(repo, 'data/tshirt'), path.join(repo, 'data/top'));
    const none = diffIn(repo, 'HEAD:r.tlr', 'r.tlr');
    expect(none.code, none.err).toBe(0);
    expect(none.out.trim().split('\n').pop()).toBe(
      'no change in what the recipe says (comments and layout only); the data was not compared: ./data is not ' +
        'in git at HEAD, and no run was made at HEAD',
    );
    expect(none.out).not.toMatch(/no change in what runs/);
    fs.renameSync(path.join(repo, 'data/top'), path.join(repo, 'data/tshirt'));
    const ran = await tlrAsync('run', path.join(repo, 'r.tlr'));
    expect(ran.code, ran.err).toBe(0);
    fs.renameSync(path.join(repo, 'data/tshirt'), path.join(repo, 'data/top'));
    const r = diffIn(repo, 'HEAD:r.tlr', 'r.tlr');
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/data before: as recorded by \.\/runs\/r\/[^ ]+ \(made at HEAD; the data is not in git\)/);
    expect(r.out).toContain('~ classes: bag, trouser, tshirt → bag, top, trouser');
  }, 60_000);

  it('a hostile tree: a link out of the data folder is not followed, and nothing is written outside a temporary folder', async () => {
    const repo = await team('hostile', false);
    fs.symlinkSync('/etc/hostname', path.join(repo, 'data/bag/escape.png'));
    fs.symlinkSync('../../../../../../../../tmp', path.join(repo, 'data/trouser/up'));
    await git(repo, 'add', '.');
    await git(repo, 'commit', '-qm', 'links');
    const before = fs.readdirSync('/tmp').length;
    const r = diffIn(repo, 'HEAD~1:r.tlr', 'HEAD:r.tlr');
    expect(r.err).not.toMatch(/hostname|EEXIST|EACCES/);
    expect(r.left).toEqual([]);
    expect(fs.readdirSync('/tmp').length).toBeLessThanOrEqual(before + 1);
  });
});
