import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import AjvDraft04 from 'ajv-draft-04';
import formats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgs, ROOT, spawnAsync, tlr, tlrAsync, tlrProcess } from '../helpers/cli.js';
import { makeWorld } from '../helpers/run-fixture.js';

// Recipes in code review, as a team's repository sees them: two revisions of a recipe in git, on
// data that is not in the repository. diff, check for CI, plan/fmt/explain, a run's recorded commit.

const run = promisify(execFile);
const git = (cwd: string, ...args: string[]) =>
  run('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd });

let world: ReturnType<typeof makeWorld>;
let repo: string;
// In canonical layout (the CI workflow's fmt --check passes on them).
const V1 = (data: string) => `# Fine-tuning, reviewed.
recipe "clothes"

from resnet18
  input 64

train 4 epochs on ${data}
  lr 0.003

then unfreeze from block4 train 2 epochs

split 50/25/25
`;
const V2 = (data: string) =>
  V1(data)
    .replace('unfreeze from block4', 'unfreeze from block3')
    .replace('lr 0.003', 'lr 0.001')
    .replace('train 4 epochs', 'train 6 epochs')
    .replace('  input 64\n', '  input 64\n\nhead dropout(0.2) dense(3)\n');

/** Runs `fn` with the repository as the working directory (git revisions are read from there). */
function inRepo<T>(fn: () => T): T {
  const here = process.cwd();
  process.chdir(repo);
  try {
    return fn();
  } finally {
    process.chdir(here);
  }
}

beforeAll(async () => {
  world = makeWorld({ perClass: 8 });
  repo = path.join(world.dir, 'team');
  fs.mkdirSync(path.join(repo, 'recipes'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'recipes', 'clothes.tlr'), V1('../../data'));
  await git(repo, 'init', '-q', '-b', 'main');
  await git(repo, 'add', '.');
  await git(repo, 'commit', '-qm', 'v1');
  fs.writeFileSync(path.join(repo, 'recipes', 'clothes.tlr'), V2('../../data'));
  await git(repo, 'commit', '-qam', 'v2');
}, 60_000);
afterAll(() => fs.rmSync(world.dir, { recursive: true, force: true }));

describe('tlr diff', () => {
  it('two revisions (REV:PATH against a file): each change before → after, what it means; exit 1', () => {
    const r = inRepo(() => tlr('diff', 'HEAD~1:recipes/clothes.tlr', 'recipes/clothes.tlr'));
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('tlr diff · HEAD~1:recipes/clothes.tlr → recipes/clothes.tlr');
    expect(r.out).toMatch(
      /head\n {2}~ layers: dense\(3\) \(512 inputs\) → dropout\(0\.2\) → dense\(3\) \(512 inputs\)/,
    );
    expect(r.out).toContain('~ stage 1 lr: 0.003 constant → 0.001 constant');
    expect(r.out).toContain('~ stage 1 epochs: 4 → 6');
    expect(r.out).toMatch(/stage 2: [\d,]+ backbone parameters start training; trainable/);
    expect(r.out).toContain('stage 1: backbone features — still valid');
    expect(r.out).toContain('stage 2: frozen part — recomputed: the layer it is cut at changed');
    expect(r.out).toMatch(/whole run: [\d.]+ GMAC → [\d.]+ GMAC \(\+\d+%\)/);
    expect(r.out).toMatch(/\d+ changes: \d+ changed, 0 added, 0 removed/);
  });

  it('--md is a table GitHub renders; --json is the comparison as data', () => {
    const md = inRepo(() => tlr('diff', 'HEAD~1:recipes/clothes.tlr', 'HEAD:recipes/clothes.tlr', '--md'));
    expect(md.code).toBe(1);
    expect(md.out).toContain('| | section | what | before | after |\n|---|---|---|---|---|');
    expect(md.out).toMatch(/\| ~ \| training \| stage 1 epochs \| 4 \| 6 \|/);
    expect(md.out).toContain('**What it means**');
    const j = JSON.parse(inRepo(() => tlr('diff', 'HEAD~1:recipes/clothes.tlr', 'recipes/clothes.tlr', '--json')).out);
    expect(j.equal).toBe(false);
    expect(j.training[1].startTraining).toBeGreaterThan(0);
    expect(j.caches.map((c: { state: string }) => c.state)).toEqual(['valid', 'invalidated']);
    expect(j.compute.after.total).toBeGreaterThan(j.compute.before.total);
  });

  it('a recipe that becomes a sweep: runs and cost before → after, the variant it was, those added', () => {
    const sweep = path.join(repo, 'recipes', 'sweep.tlr');
    const text = V2('../../data').replace('recipe "clothes"', 'recipe "sweep"');
    fs.writeFileSync(sweep, text.replace('lr 0.001', 'lr {0.001, 0.0003}').replace('6 epochs', '{6, 8} epochs'));
    const same = path.join(repo, 'recipes', 'same.tlr');
    fs.writeFileSync(same, text.replace('lr 0.001', 'lr {0.0003,0.001}').replace('6 epochs', '{8,6} epochs'));
    const r = inRepo(() => tlr('diff', 'recipes/clothes.tlr', 'recipes/sweep.tlr'));
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/^runs: 1 \(a recipe\) → 4 \(epochs ×2, lr ×2\)$/m);
    expect(r.out).toMatch(/^whole sweep: .*MAC → .*MAC \(\+\d+%\)/m);
    expect(r.out).toMatch(/^added: 3 variants\n {2}[0-9a-f]{8} \(epochs 6, lr 0\.0003\): [\d,]+ trainable/m);
    // Its plan differs only in its name and runs folder: the variant it became is found, and said so.
    expect(r.out).toMatch(/^changed: 1 variant\n {2}the recipe → [0-9a-f]{8} \(epochs 6, lr 0\.001\)$/m);
    expect(r.out).toContain('~ name: clothes → sweep');
    const j = JSON.parse(inRepo(() => tlr('diff', 'recipes/clothes.tlr', 'recipes/sweep.tlr', '--json')).out);
    expect([j.kind, j.before.runs, j.after.runs, j.added.length, j.changed[0].pairs[0].before.name]).toEqual([
      'sweep',
      1,
      4,
      3,
      'the recipe',
    ]);
    const md = inRepo(() => tlr('diff', 'recipes/clothes.tlr', 'recipes/sweep.tlr', '--md'));
    expect(md.out).toMatch(/^\*\*Added\*\* \(3 variants\)$/m);
    // The same sweep with its lists reordered (and named alike): nothing that runs changes.
    const reordered = inRepo(() => tlr('diff', 'recipes/sweep.tlr', 'recipes/same.tlr'));
    expect([reordered.code, reordered.out.trim().split('\n').pop()]).toEqual([
      0,
      'no change in what runs (comments, layout or order only)',
    ]);
    fs.rmSync(sweep);
    fs.rmSync(same);
  });

  it('a change of comments and layout only: no change in what runs, exit 0', () => {
    // Another file in the same folder: its runs go to the same runs folder.
    const moved = path.join(repo, 'recipes', 'moved.tlr');
    fs.writeFileSync(
      moved,
      `# another comment\n\n${V2('../../data').replace('  lr 0.001', '      lr    0.001   # lower')}`,
    );
    const r = inRepo(() => tlr('diff', 'recipes/clothes.tlr', 'recipes/moved.tlr'));
    fs.rmSync(moved);
    expect([r.code, r.out.trim().split('\n').pop()]).toEqual([0, 'no change in what runs (comments and layout only)']);
  });

  it('a revision that does not exist, a missing path, a side that does not parse: exit 2, saying which', () => {
    const none = inRepo(() => tlr('diff', 'nosuch:recipes/clothes.tlr', 'recipes/clothes.tlr'));
    expect([none.code, none.err.trim()]).toEqual([2, 'tlr: revision nosuch does not exist in this repository']);
    const gone = inRepo(() => tlr('diff', 'HEAD:recipes/gone.tlr', 'recipes/clothes.tlr'));
    expect(gone.code).toBe(2);
    expect(gone.err).toContain('recipes/gone.tlr is not in revision HEAD');
    const bad = path.join(repo, 'bad.tlr');
    fs.writeFileSync(bad, 'from resnet18\ntrain 3 epochs on ../data\nsplit 50/\n');
    const r = inRepo(() => tlr('diff', 'recipes/clothes.tlr', 'bad.tlr'));
    fs.rmSync(bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad.tlr:3:');
    expect(r.err).toContain('tlr: bad.tlr does not check; tlr diff compares recipes that do');
  });

  it('binary junk on stdin is refused, naming stdin', async () => {
    const r = await tlrProcess(['diff', '-', 'recipes/clothes.tlr'], { cwd: repo, input: 'from \u0000\u0001 junk' });
    expect([r.code, r.err.trim()]).toEqual([
      2,
      'tlr: <stdin> is not a recipe: it holds binary data (a NUL byte at offset 5)',
    ]);
  });

  it('--git BASE [HEAD]: every changed recipe, added, removed and renamed ones too', async () => {
    const clone = path.join(world.dir, 'clone');
    await run('git', ['clone', '-q', repo, clone]);
    fs.copyFileSync(path.join(clone, 'recipes', 'clothes.tlr'), path.join(clone, 'recipes', 'second.tlr'));
    await git(clone, 'add', '.');
    await git(clone, 'mv', 'recipes/clothes.tlr', 'recipes/renamed.tlr');
    await git(clone, 'commit', '-qm', 'rename and add');
    const here = process.cwd();
    process.chdir(clone);
    try {
      const r = tlr('diff', '--git', 'HEAD~1', 'HEAD');
      expect(r.code, r.err).toBe(1);
      expect(r.out).toMatch(/^added HEAD:recipes\/second\.tlr: resnet18, 2 stage\(s\) training/m);
      expect(r.out).toContain('renamed recipes/clothes.tlr → recipes/renamed.tlr');
      // The data is outside the repository, and no run was made at HEAD~1: the diff cannot say it stayed the same.
      expect(r.out).toContain(
        'no change in what the recipe says (comments and layout only); the data was not compared: ../../data is ' +
          'outside the repository, and no run was made at HEAD~1',
      );
      const none = tlr('diff', '--git', 'HEAD', 'HEAD');
      expect([none.code, none.out.trim()]).toEqual([0, 'no recipe changed between HEAD and HEAD']);
      // The pull-request comment: its marker first, the summary, then each recipe's details folded.
      const md = tlr('diff', '--git', 'HEAD~2', '--md');
      expect(md.code).toBe(1);
      expect(md.out.startsWith('<!-- tlr-diff -->\n### tlr: what this change means')).toBe(true);
      expect(md.out).toContain('- `recipes/second.tlr`: added');
      expect(md.out.indexOf('<details>')).toBeGreaterThan(md.out.indexOf('- `recipes/second.tlr`'));
      // Nothing that runs changed: nothing to post.
      expect(tlr('diff', '--git', 'HEAD', 'HEAD', '--md').out).toBe('');
      // Against the work tree, a recipe git does not know yet is added too.
      fs.copyFileSync(path.join(clone, 'recipes', 'second.tlr'), path.join(clone, 'recipes', 'third.tlr'));
      expect(tlr('diff', '--git', 'HEAD').out).toMatch(/^added recipes\/third\.tlr: resnet18/m);
    } finally {
      process.chdir(here);
    }
  });

  it('a 10,000-line recipe compares (and is not slow)', () => {
    const long = path.join(repo, 'recipes', 'long.tlr');
    fs.writeFileSync(long, `${'# note\n'.repeat(10_000)}${V2('../../data')}`);
    const t = performance.now();
    const r = inRepo(() => tlr('diff', 'recipes/clothes.tlr', 'recipes/long.tlr'));
    fs.rmSync(long);
    expect(r.code, r.err).toBe(0);
    expect(performance.now() - t).toBeLessThan(20_000);
  });
});

describe('check for CI', () => {
  let ci: string;
  beforeAll(() => {
    ci = path.join(world.dir, 'ci dir, "quoted"');
    fs.mkdirSync(path.join(ci, 'runs', 'old'), { recursive: true });
    fs.mkdirSync(path.join(ci, 'node_modules', 'x'), { recursive: true });
    fs.writeFileSync(path.join(ci, 'a: "b", c.tlr'), 'from resnet99\ntrain 3 epochs on ../data\n');
    fs.writeFileSync(path.join(ci, 'ok.tlr'), `from resnet18\ntrain 3 epochs on ../data\nsplit 50/25/25\n`);
    fs.writeFileSync(path.join(ci, 'runs', 'old', 'recipe.tlr'), 'not a recipe');
    fs.writeFileSync(path.join(ci, 'node_modules', 'x', 'y.tlr'), 'not a recipe');
  });

  it('--format github on a folder: workflow commands with positions, escaped as GitHub documents', () => {
    const r = tlr('check', '--format', 'github', ci);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1); // runs/ and node_modules/ are skipped; ok.tlr has nothing to say
    const file = path.join(ci, 'a: "b", c.tlr').replace(/%/g, '%25').replace(/:/g, '%3A').replace(/,/g, '%2C');
    expect(lines[0]).toBe(
      `::error file=${file},line=1,col=6,endLine=1,endColumn=14,title=TLR1002 unknown model::there is no model ` +
        'named `resnet99` in the zoo%0Ahint: did you mean `resnet18`, `resnet34`, `resnet50`?%0Ahint: run `tlr models` to list the zoo',
    );
  });

  it("--format sarif: valid against OASIS' SARIF 2.1.0 schema, one rule per code, stable fingerprints", () => {
    const r = tlr('check', '--format', 'sarif', ci);
    expect(r.code).toBe(1);
    const log = JSON.parse(r.out);
    // OASIS publishes the schema as draft-04 JSON Schema; CommonJS defaults arrive wrapped under ESM.
    const Ajv = ((AjvDraft04 as unknown as { default?: typeof AjvDraft04 }).default ?? AjvDraft04) as unknown as new (
      o: object,
    ) => import('ajv').Ajv;
    const addFormats = ((formats as unknown as { default?: unknown }).default ?? formats) as (a: unknown) => void;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const schema = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'test/fixtures/schemas/sarif-schema-2.1.0.json'), 'utf8'),
    );
    const valid = ajv.compile(schema);
    expect(valid(log), JSON.stringify(valid.errors)).toBe(true);
    const [result] = log.runs[0].results;
    expect(result).toMatchObject({ ruleId: 'TLR1002', level: 'error' });
    expect(result.locations[0].physicalLocation.region).toEqual({
      startLine: 1,
      startColumn: 6,
      endLine: 1,
      endColumn: 14,
    });
    const rule = log.runs[0].tool.driver.rules[result.ruleIndex];
    expect(rule).toMatchObject({ id: 'TLR1002', name: 'UnknownModel', shortDescription: { text: 'unknown model' } });
    expect(rule.help.text.length).toBeGreaterThan(20);
    // The fingerprint ignores where the line is: a line added above keeps it.
    const file = path.join(ci, 'a: "b", c.tlr');
    fs.writeFileSync(file, `# moved down\n${fs.readFileSync(file, 'utf8')}`);
    const again = JSON.parse(tlr('check', '--format', 'sarif', ci).out).runs[0].results[0];
    expect(again.partialFingerprints).toEqual(result.partialFingerprints);
    expect(again.locations[0].physicalLocation.region.startLine).toBe(2);
  });

  it('a folder search in a git repository keeps to what git lists: what .gitignore leaves out is not checked', async () => {
    const dir = fs.mkdtempSync(path.join(world.dir, 'ignored-'));
    await run('git', ['init', '-q', dir]);
    const flowers = path.resolve(__dirname, '../fixtures/data/flowers');
    fs.writeFileSync(path.join(dir, 'a.tlr'), `from resnet18\ntrain 1 epoch on ${flowers}\n`);
    fs.writeFileSync(path.join(dir, 'new.tlr'), `from resnet18\ntrain 1 epoch on ${flowers}\n`);
    fs.mkdirSync(path.join(dir, 'tools', 'tlr', 'test'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tools', 'tlr', 'test', 'broken.tlr'), 'from resnet81\n');
    fs.writeFileSync(path.join(dir, '.gitignore'), 'tools/\n');
    await git(dir, 'add', 'a.tlr', '.gitignore');
    const r = tlr('check', dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('a.tlr: ok');
    expect(r.out).toContain('new.tlr: ok');
    expect(r.out).not.toContain('broken.tlr');
    expect(tlr('fmt', '--check', dir).out).not.toContain('broken.tlr');
    // Named on the command line, an ignored recipe is read as named.
    expect(tlr('check', path.join(dir, 'tools', 'tlr', 'test', 'broken.tlr')).code).toBe(1);
  });

  it('a folder with no recipe, a glob, a bad --format: clear errors', () => {
    const empty = fs.mkdtempSync(path.join(world.dir, 'empty-'));
    expect(tlr('check', empty).err).toContain('holds no .tlr recipe');
    expect(tlr('check', path.join(ci, '*.tlr')).out).toContain('ok.tlr: ok');
    expect(tlr('check', '--format', 'xml', ci).err).toContain('--format takes text, json, github or sarif, not xml');
  });
});

describe('plan, fmt and explain', () => {
  it('plan - reads stdin, paths from --stdin-filename; fmt --check prints a unified diff', async () => {
    const text = V1('../../data');
    const r = await tlrProcess(['plan', '-', '--stdin-filename', 'recipes/x.tlr'], { cwd: repo, input: text });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('tlr plan · clothes');
    expect(r.out).toMatch(/compute {4}stage 1: [\d.]+ [GM]MAC for the backbone once/);
    const messy = path.join(repo, 'messy.tlr');
    fs.writeFileSync(messy, text.replace('  lr 0.003', 'lr    0.003'));
    const f = inRepo(() => tlr('fmt', '--check', 'messy.tlr'));
    fs.rmSync(messy);
    expect(f.code).toBe(1);
    expect(f.out).toContain('--- a/messy.tlr\n+++ b/messy.tlr\n@@');
    expect(f.out).toContain('-lr    0.003\n+  lr 0.003');
    expect(f.err).toContain('messy.tlr: not in canonical layout (run: tlr fmt --write messy.tlr)');
  });

  it('explain: Markdown with a Mermaid diagram per stage coloured frozen / trained / head; --html a page', () => {
    const r = inRepo(() => tlr('explain', 'recipes/clothes.tlr'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^# clothes\n\n`recipes\/clothes\.tlr`: resnet18 at 64×64, pretrained/);
    // ResNet-18: input and 7 blocks, wrapped in rows (a deep network in one row runs off the page).
    expect(r.out.match(/```mermaid\nflowchart TB\n {2}subgraph row0\[" "\]\n {4}direction LR/g)).toHaveLength(2);
    expect(r.out).toMatch(/n\d+_block4\["block4<br\/>[\d,]+ params"\]:::trained/);
    expect(r.out).toMatch(/n\d+_block2\["block2<br\/>[\d,]+ params"\]:::frozen/);
    expect(r.out).toContain(':::head');
    expect(r.out).toContain('| class | train | validation | test |');
    expect(r.out).toContain('## Compute');
    const html = inRepo(() => tlr('explain', '--html', 'recipes/clothes.tlr')).out;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain('class="block"');
  });

  it('git diff shows the plan with tlr as the textconv of *.tlr (README: Recipes in git)', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bin-'));
    const shim = path.join(bin, 'tlr');
    fs.writeFileSync(
      shim,
      `#!/bin/sh\nexec "${process.execPath}" ${cliArgs()
        .map((a) => `"${a}"`)
        .join(' ')} "$@"\n`,
    );
    fs.chmodSync(shim, 0o755);
    fs.writeFileSync(path.join(repo, '.gitattributes'), '*.tlr diff=tlr\n');
    await git(repo, 'config', 'diff.tlr.textconv', 'tlr plan --textconv');
    const env = { ...process.env, PATH: `${bin}:${process.env['PATH']}` };
    const r = await spawnAsync('git', ['diff', 'HEAD~1', 'HEAD', '--', 'recipes/clothes.tlr'], { cwd: repo, env });
    fs.rmSync(bin, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('-stage 1 training · epochs: 4\n+stage 1 training · epochs: 6');
    expect(r.stdout).toContain('-stage 1 training · lr: 0.003 constant\n+stage 1 training · lr: 0.001 constant');
    expect(r.stdout).not.toContain('# Fine-tuning, reviewed.');
  });
});

describe('runs remember their recipe', () => {
  it("environment.json records the commit, whether the file was changed, and the recipe's digest", async () => {
    const dir = path.join(world.dir, 'tracked');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'tiny.tlr');
    const text = `from mobilenet_v1 width 0.25 input 32 weights ${world.weights}\ntrain 1 epoch on ../data\nsplit 50/50\n`;
    fs.writeFileSync(file, text);
    await git(dir, 'init', '-q');
    await git(dir, 'add', 'tiny.tlr');
    await git(dir, 'commit', '-qm', 'tiny');
    const head = (await git(dir, 'rev-parse', 'HEAD')).stdout.trim();
    const r = await tlrAsync('run', file);
    expect(r.code, r.err).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'runs', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    const runDir = path.join(dir, 'runs', 'tiny', fs.readdirSync(path.join(dir, 'runs', 'tiny'))[0]!);
    const env = JSON.parse(fs.readFileSync(path.join(runDir, 'environment.json'), 'utf8'));
    expect(env.recipe).toMatchObject({ path: 'tiny.tlr', git: { commit: head, dirty: false } });
    expect(env.recipe.digest).toMatch(/^[0-9a-f]{64}$/);
    // Edited and not committed: the next run says so.
    fs.appendFileSync(file, '# tried something\n');
    await tlrAsync('run', file);
    const latest = fs
      .readdirSync(path.join(dir, 'runs', 'tiny'))
      .sort()
      .pop()!;
    const env2 = JSON.parse(fs.readFileSync(path.join(dir, 'runs', 'tiny', latest, 'environment.json'), 'utf8'));
    expect(env2.recipe.git).toEqual({ commit: head, dirty: true });
    expect(env2.recipe.digest).not.toBe(env.recipe.digest);
    expect(
      JSON.parse((await tlrAsync('compare', path.join(dir, 'runs', 'tiny', latest), '--json')).out)[0].revision,
    ).toBe(`${head.slice(0, 7)}*`);
  }, 60_000);
});

describe('the CI workflow in examples/ci', () => {
  it('its run: steps pass with the GitHub variables set, post the diff to the summary, and one comment, updated', async () => {
    const wf = parseYaml(fs.readFileSync(path.join(ROOT, 'examples/ci/recipes.yml'), 'utf8'));
    const steps = wf.jobs.recipes.steps.filter(
      (s: { run?: string; name?: string }) => s.run && s.name !== 'Install tlr',
    );
    expect(steps.map((s: { name: string }) => s.name)).toEqual([
      'Check recipes',
      'Canonical layout',
      'What the change means',
      'One comment on the pull request, updated in place',
    ]);
    const upstream = path.join(world.dir, 'upstream.git');
    await run('git', ['clone', '-q', '--bare', repo, upstream]);
    const work = path.join(world.dir, 'pr');
    await run('git', ['clone', '-q', upstream, work]);
    fs.writeFileSync(
      path.join(work, 'recipes', 'clothes.tlr'),
      V2('../../data').replace('train 6 epochs', 'train 8 epochs'),
    );
    await git(work, 'commit', '-qam', 'more epochs');
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bin-'));
    fs.writeFileSync(
      path.join(bin, 'tlr'),
      `#!/bin/sh\nexec "${process.execPath}" ${cliArgs()
        .map((a) => `"${a}"`)
        .join(' ')} "$@"\n`,
      { mode: 0o755 },
    );
    // GitHub's CLI stood in for by a script: it logs each call, and knows a comment (42) after the first post.
    const calls = path.join(world.dir, 'gh-calls.txt');
    fs.writeFileSync(
      path.join(bin, 'gh'),
      `#!/bin/sh\necho "$*" >> '${calls}'\ncase "$*" in *--jq*) [ -f '${calls}.posted' ] && echo 42;; ` +
        `*POST*) touch '${calls}.posted';; esac\nexit 0\n`,
      { mode: 0o755 },
    );
    const summary = path.join(world.dir, 'summary.md');
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env['PATH']}`,
      GITHUB_BASE_REF: 'main',
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'team/recipes',
      PR: '7',
      GH_TOKEN: 'token-of-the-job',
    };
    for (const pass of [1, 2])
      for (const s of steps) {
        const r = await spawnAsync('bash', ['-e', '-c', s.run], { cwd: work, env });
        expect(r.status, `pass ${pass}, ${s.name}: ${r.stderr}${r.stdout}`).toBe(0);
      }
    fs.rmSync(bin, { recursive: true, force: true });
    expect(fs.readFileSync(summary, 'utf8')).toMatch(/\| ~ \| training \| stage 1 epochs \| 6 \| 8 \|/);
    const made = fs
      .readFileSync(calls, 'utf8')
      .split('\n')
      .filter((l) => /-X (POST|PATCH)/.test(l));
    expect(made).toEqual([
      'api -X POST repos/team/recipes/issues/7/comments -F body=@tlr-diff.md',
      'api -X PATCH repos/team/recipes/issues/comments/42 -F body=@tlr-diff.md',
    ]);
    expect(fs.readFileSync(path.join(work, 'tlr-diff.md'), 'utf8').startsWith('<!-- tlr-diff -->')).toBe(true);
  }, 120_000);
});
