import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { makeWorld, recipe } from '../helpers/run-fixture.js';
import { tlrAsync } from '../helpers/cli.js';

// Runs of two recipes on tiny data, then the report page of one and the table of both.

let dirs: string[] = [];
let world: ReturnType<typeof makeWorld>;
beforeAll(async () => {
  world = makeWorld();
  process.env['TLR_CACHE'] = path.join(world.dir, 'cache');
  const a = recipe(
    world.dir,
    `recipe "frozen"\nfrom mobilenet_v1 width 0.25 input 32 weights ${world.weights}\ntrain 3 epochs on ./data ` +
      `lr 0.01\nsplit 60/20/20\n`,
  );
  fs.renameSync(a, path.join(world.dir, 'frozen.tlr'));
  const b = recipe(
    world.dir,
    `recipe "tuned"\nfrom mobilenet_v1 width 0.25 input 32 weights ${world.weights}\ntrain 2 epochs on ./data ` +
      `lr 0.01\nthen unfreeze from block13 train 2 epochs\nsplit 60/20/20\n`,
  );
  fs.renameSync(b, path.join(world.dir, 'tuned.tlr'));
  const r = await tlrAsync(
    'compare',
    path.join(world.dir, 'frozen.tlr'),
    path.join(world.dir, 'tuned.tlr'),
    '--out',
    world.dir,
  );
  expect(r.code, r.err).toBe(0);
  dirs = ['frozen', 'tuned'].map((n) => {
    const d = path.join(world.dir, 'runs', n);
    return path.join(d, fs.readdirSync(d)[0]!);
  });
});

describe('tlr compare', () => {
  it('without --out, writes beside the runs (runs/, which git ignores), not into the folder it was typed in', async () => {
    const here = process.cwd();
    const cwd = fs.mkdtempSync(path.join(world.dir, 'typed-in-'));
    process.chdir(cwd);
    try {
      const r = await tlrAsync('compare', dirs[0]!, dirs[1]!);
      expect(r.code, r.err).toBe(0);
    } finally {
      process.chdir(here);
    }
    expect(fs.readdirSync(cwd)).toEqual([]);
    for (const f of ['compare.md', 'compare.csv', 'compare.html'])
      expect(fs.existsSync(path.join(world.dir, 'runs', f)), f).toBe(true);
  });

  it('runs recipes and writes the table as Markdown and CSV', () => {
    const md = fs.readFileSync(path.join(world.dir, 'compare.md'), 'utf8');
    expect(md).toMatch(
      /^\| run \| id \| network \| width \| input \| weights \| frozen \| head \| stages \| epochs \| lr \| batch \| data \| accuracy \| balanced \| mAP \| macro F1 \| time \| img\/s \| cached img\/s \| backend \| recipe \|/,
    );
    expect(md).toMatch(
      /\| frozen \| \d{8}-\d{6} \| mobilenet_v1 \| 0\.25 \| 32 \| file \| 100% \| dense\(3\) \| 1 \| 3 \| 0\.01 \| 32 \| data \| \d+\.\d\d% \| \d+\.\d\d% \| - \| [\d.]+ \| \d+ s \| - \| [\d.]+ \|/,
    );
    expect(md).toMatch(
      /\| tuned \| .* \| 100% → \d+% \| dense\(3\) \| 2 \| 4 \| 0\.01 → 0\.001 \| 32 \| data \| .* \| [\d.]+ \| [\d.]+ \|/,
    );
    // The CSV holds numbers as numbers: a fraction for accuracy, seconds, images per second.
    const csv = fs.readFileSync(path.join(world.dir, 'compare.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toBe(
      'run,id,finished,network,width,input,weights,frozen,stages,epochs,lr,batch,data,split,accuracy,balanced_accuracy,map,macro_f1,seconds,images_per_second,cached_images_per_second,backend,head,recipe_digest,revision,run_folder',
    );
    expect(csv[1]).toMatch(
      /^frozen,\d{8}-\d{6},[^,]+,mobilenet_v1,0\.25,32,file,100%,1,3,0\.01,32,data,test,(0(\.\d+)?|1),(0(\.\d+)?|1),,[\d.]+,[\d.]+,,[\d.]+,wasm,/,
    );
  });

  it("writes compare.html: the runs' validation curves overlaid and the table, self-contained", () => {
    const html = fs.readFileSync(path.join(world.dir, 'compare.html'), 'utf8');
    expect(html.match(/<svg /g)!.length).toBe(2);
    expect(html.match(/<polyline /g)!.length).toBe(4);
    expect(html).toMatch(/<td>frozen<\/td><td>\d{8}-\d{6}<\/td>/);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/(src|href)="https?:/);
  });

  it('--by dataset pivots recipes against data sets, never pooling two recipes; --json gives the rows', async () => {
    const r = await tlrAsync('compare', ...dirs, '--by', 'dataset', '--out', world.dir);
    expect(r.out).toMatch(/recipe\s+data\n/);
    // The same network in two recipes is two rows, each named with its recipe's digest.
    expect(r.out).toMatch(/frozen: mobilenet_v1 0\.25 @32 \(file\) \[[0-9a-f]{8}\]\s+\d+\.\d\d%\n/);
    expect(r.out).toMatch(/tuned: mobilenet_v1 0\.25 @32 \(file\) \[[0-9a-f]{8}\]\s+\d+\.\d\d%/);
    // Repeats of one recipe on one data set are aggregated, not hidden: mean ± sd (n).
    const twice = await tlrAsync('compare', dirs[0]!, dirs[0]!, '--by', 'dataset', '--out', world.dir);
    expect(twice.out).toMatch(/frozen: mobilenet_v1 0\.25 @32 \(file\) \[[0-9a-f]{8}\]\s+\d+\.\d\d% ± 0\.00 \(n=2\)/);
    const j = JSON.parse((await tlrAsync('compare', ...dirs, '--json')).out);
    expect(j.map((x: { run: string }) => x.run)).toEqual(['frozen', 'tuned']);
    expect(j[0].accuracy).toBe(
      JSON.parse(fs.readFileSync(path.join(dirs[0]!, 'report.json'), 'utf8')).evaluation.accuracy,
    );
  });

  it('skips a run that has not finished, with a warning naming it; refuses when none has', async () => {
    const r = await tlrAsync('compare', world.dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `skipping ${world.dir}: not a finished tlr run (plan.json, report.json, metrics.jsonl missing)`,
    );
    expect(r.err).toContain('none of these is a finished tlr run');
    const half = fs.mkdtempSync(path.join(world.dir, 'half-'));
    fs.copyFileSync(path.join(dirs[0]!, 'plan.json'), path.join(half, 'plan.json'));
    const mixed = await tlrAsync('compare', dirs[0]!, half, '--json');
    expect(mixed.code, mixed.err).toBe(0);
    expect(mixed.err).toContain(`skipping ${half}: not a finished tlr run (report.json, metrics.jsonl missing)`);
    expect(JSON.parse(mixed.out).map((x: { run: string }) => x.run)).toEqual(['frozen']);
  });

  it('shows the head and the recipe each run came from (digest; revision in a git work tree)', async () => {
    const j = JSON.parse((await tlrAsync('compare', ...dirs, '--json')).out);
    expect(j.map((x: { head: string }) => x.head)).toEqual(['dense(3)', 'dense(3)']);
    const env = JSON.parse(fs.readFileSync(path.join(dirs[0]!, 'environment.json'), 'utf8'));
    expect(env.recipe.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(j[0].digest).toBe(env.recipe.digest.slice(0, 12));
    expect(j[0].digest).not.toBe(j[1].digest);
  });
});

describe('report.html', () => {
  it(
    'is written by every run: self-contained, with curves, the heat map, per-class figures and the ' +
      'misclassified images',
    async () => {
      const html = fs.readFileSync(path.join(dirs[1]!, 'report.html'), 'utf8');
      expect(html.match(/<svg /g)!.length).toBe(4);
      expect(html).toContain('aria-label="confusion matrix"');
      // The best epoch is marked on each curve; rates sit on a log scale; thumbnails name their file.
      expect(html.match(/class="best"/g)!.length).toBe(3);
      expect(html).toMatch(/<img src="data:image\/png;base64,[^"]+" alt="[a-z]+-\d+\.png"|<p>None/);
      expect(html.match(/class="break"/g)!.length).toBe(3); // the stage boundary on each curve
      expect(html).toMatch(/<td>bag<\/td><td>\d\.\d{3}<\/td>/);
      expect(html).toMatch(
        /Most confidently misclassified<\/h2>\n(<div class="grid-imgs"><figure><img src="data:image\/png;base64,|<p>None)/,
      );
      // Nothing is fetched: no scripts, stylesheets or images from elsewhere.
      expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/(src|href)="https?:/);
      const again = await tlrAsync('report', dirs[1]!);
      expect(again.out).toContain('report.html');
    },
  );
});
