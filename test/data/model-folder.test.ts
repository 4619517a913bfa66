import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_MARKER, saveTargetProblem } from '../../src/data/model-folder.js';
import { compile } from '../../src/compiler/index.js';
import { TLR_VERSION } from '../../src/version.js';

// A save target never replaces what tlr did not write: the checker refuses it (TLR1701) and
// the runtime asks again right before writing.

function world() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-save-'));
  const project = path.join(root, 'home', 'me', 'project');
  for (const c of ['a', 'b']) {
    fs.mkdirSync(path.join(project, 'data', c), { recursive: true });
    fs.writeFileSync(path.join(project, 'data', c, '1.png'), 'x');
  }
  return { root, project, home: path.join(root, 'home', 'me'), data: path.join(project, 'data') };
}

describe('saveTargetProblem', () => {
  const w = world();
  const p = { data: [w.data], recipeDir: w.project, home: w.home };
  it.each([
    ['the data folder', () => w.data, /is the data folder/],
    ['inside the data folder', () => path.join(w.data, 'a'), /inside the data folder/],
    ['a folder holding the data', () => w.project, /contains the data folder/],
    ["the recipe's folder's parent", () => w.home, /contains the data folder|recipe|home/],
    ['the home folder', () => path.join(w.root, 'home', 'me'), /./],
    ['an ancestor of home', () => path.join(w.root, 'home'), /./],
    ['a file system root', () => '/', /root of a file system/],
  ])('refuses %s', (_what, target, message) => {
    expect(saveTargetProblem(target(), p)).toMatch(message);
  });

  it("refuses the recipe's own folder when the data lies elsewhere", () => {
    expect(
      saveTargetProblem(w.project, { data: [path.join(w.root, 'elsewhere')], recipeDir: w.project, home: w.home }),
    ).toMatch(/recipe's own folder/);
  });

  it('refuses a home folder when nothing else is in the way', () => {
    expect(saveTargetProblem(w.home, { data: [], recipeDir: path.join(w.root, 'x'), home: w.home })).toBe(
      'it is a home folder',
    );
  });

  it('refuses a foreign folder, a file, a symlink and a pipe, and names what is there', () => {
    const foreign = path.join(w.project, 'notes');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'todo.txt'), 'keep me');
    expect(saveTargetProblem(foreign, p)).toMatch(/did not write .*todo\.txt/);
    const file = path.join(w.project, 'model.bin');
    fs.writeFileSync(file, 'x');
    expect(saveTargetProblem(file, p)).toMatch(/is a file/);
    const link = path.join(w.project, 'link');
    fs.symlinkSync(path.join(w.project, 'nowhere'), link);
    expect(saveTargetProblem(link, p)).toMatch(/symbolic link/);
    const fifo = path.join(w.project, 'fifo');
    try {
      require('node:child_process').execFileSync('mkfifo', [fifo]);
      expect(saveTargetProblem(fifo, p)).toMatch(/not a regular folder/);
    } catch (e) {
      if (!(e as Error).message.includes('ENOENT')) throw e;
    }
  });

  it('sees through a symlink to the data folder', () => {
    const link = path.join(w.root, 'alias');
    fs.symlinkSync(w.data, link);
    expect(saveTargetProblem(path.join(link, 'a'), p)).toMatch(/inside the data folder/);
  });

  it('accepts a new folder, an empty one, and one tlr wrote (its marker inside)', () => {
    expect(saveTargetProblem(path.join(w.project, 'models', 'new'), p)).toBeNull();
    const empty = path.join(w.project, 'empty');
    fs.mkdirSync(empty);
    expect(saveTargetProblem(empty, p)).toBeNull();
    const ours = path.join(w.project, 'ours');
    fs.mkdirSync(ours);
    fs.writeFileSync(path.join(ours, 'model.json'), '{}');
    fs.writeFileSync(path.join(ours, MODEL_MARKER), '{"files":["model.json"]}');
    expect(saveTargetProblem(ours, p)).toBeNull();
    // A marker that lists no files (an older tlr's) proves nothing: its other files are named.
    fs.writeFileSync(path.join(ours, MODEL_MARKER), '{}');
    expect(saveTargetProblem(ours, p)).toMatch(/it holds model\.json, which tlr did not write/);
  });
});

describe('tlr check on save targets', () => {
  const w = world();
  const file = path.join(w.project, 'r.tlr');
  const codes = (to: string) =>
    compile(`from mobilenet_v1 width 0.25 input 32 weights none\ntrain 1 epoch on ./data\nsave to ${to}\n`, { file })
      .diagnostics.filter((d) => d.code === 'TLR1701')
      .map((d) => d.message);
  it.each(['./data', './data/a', '.', '..', '/', '~'])('rejects `save to %s`', (to) => {
    expect(codes(to)).toHaveLength(1);
  });
  it('accepts a new folder beside the recipe', () => {
    expect(codes('./models/r')).toEqual([]);
  });
});

it('the version constant matches package.json', () => {
  expect(TLR_VERSION).toBe(JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')).version);
});
