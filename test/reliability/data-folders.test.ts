import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src/engines/tfjs/tf.js';
import { probeData } from '../../src/data/formats/index.js';
import { listItems } from '../../src/runtime/images/dataset.js';
import { ImageSource } from '../../src/engines/tfjs/train/batch-sources.js';
import { featureKey } from '../../src/engines/tfjs/train/features.js';
import { compile } from '../../src/compiler/index.js';
import { run } from '../../src/engines/tfjs/run.js';
import { Events, type RunEvent } from '../../src/runtime/events.js';
import { makeWorld, recipe } from '../helpers/run-fixture.js';

// Hostile data folders: entries that are not regular files are never opened (a FIFO would hang),
// links are followed only inside the data folder, and each problem is a warning naming the entry.

const PNG = path.resolve(__dirname, '../../recipes/quickstart/clothes/bag/bag-001.png');

function hostile(): { root: string; outside: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-hostile-'));
  const data = path.join(root, 'data'),
    outside = path.join(root, 'outside');
  for (const c of ['a', 'b', 'real']) fs.mkdirSync(path.join(data, c), { recursive: true });
  fs.mkdirSync(outside);
  fs.copyFileSync(PNG, path.join(outside, 'secret.png'));
  for (const c of ['a', 'b', 'real'])
    for (let i = 0; i < 3; i++) fs.copyFileSync(PNG, path.join(data, c, `ok-${i}.png`));
  execFileSync('mkfifo', [path.join(data, 'a', 'fifo.png')]);
  fs.symlinkSync(path.join(data, 'a', 'nowhere.png'), path.join(data, 'a', 'dangling.png'));
  fs.symlinkSync(path.join(data, 'b', 'loop.png'), path.join(data, 'b', 'loop.png'));
  fs.symlinkSync(path.join(outside, 'secret.png'), path.join(data, 'b', 'escape.png'));
  fs.symlinkSync(path.join(data, 'real', 'ok-0.png'), path.join(data, 'b', 'inside-link.png'));
  // A class folder that is a link to a folder inside the data folder is followed, not dropped.
  fs.symlinkSync(path.join(data, 'real'), path.join(data, 'linked'));
  return { root, outside };
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('hostile data folders', () => {
  it('the probe counts only regular images, follows a linked class folder, and lists each problem by name', () => {
    const { root } = hostile();
    const r = probeData(path.join(root, 'data'));
    expect(r.ok && r.info.splits.train!.map((c) => [c.name, c.images])).toEqual([
      ['a', 3],
      ['b', 4],
      ['linked', 3],
      ['real', 3],
    ]);
    const items = listItems({ kind: 'data', path: path.join(root, 'data'), format: 'folders', part: 'train' }, [
      'a',
      'b',
      'linked',
      'real',
    ]);
    const problems = items.flatMap((it) => (it.kind === 'file' && it.problem ? [it.problem] : []));
    expect(problems.map((p) => path.basename(p.split(' ')[0]!))).toEqual([
      'dangling.png',
      'fifo.png',
      'escape.png',
      'loop.png',
    ]);
    expect(problems.join('\n')).toMatch(/fifo\.png is not a regular file/);
    expect(problems.join('\n')).toMatch(/escape\.png is a symbolic link out of the data folder/);
    expect(problems.join('\n')).toMatch(/dangling\.png is a symbolic link to nothing/);
    expect(problems.join('\n')).toMatch(/loop\.png is a symbolic link that loops/);
  });

  it('decoding skips each problem with its reason and never opens the FIFO (no hang); the cache key ' +
    'does not read it either', async () => {
    const { root } = hostile();
    const items = listItems({ kind: 'data', path: path.join(root, 'data'), format: 'folders', part: 'train' }, [
      'a',
      'b',
      'linked',
      'real',
    ]);
    expect(
      featureKey(
        {
          tlr: 'x',
          network: 'n',
          width: null,
          weightsSha256: 's',
          featureLayer: 'f',
          inputSize: 32,
          mean: [0, 0, 0],
          std: [1, 1, 1],
        },
        items,
      ),
    ).toMatch(/^[0-9a-f]{32}$/);
    const reasons: string[] = [];
    const src = new ImageSource(items, 32, { mean: [0, 0, 0], std: [1, 1, 1] }, [], (_it, reason) =>
      reasons.push(reason),
    );
    let n = 0;
    for await (const b of src.batches(8, false, 0)) {
      n += b.y.length;
      b.x.dispose();
    }
    expect(n).toBe(13);
    expect(reasons).toHaveLength(4);
  }, 20_000);

  it('a run on such a folder stops with a clear error naming the entries (more than 1% ' +
    'unreadable), never hangs', async () => {
    const { root } = hostile();
    const w = makeWorld({ perClass: 1 });
    const f = recipe(
      root,
      `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\ntrain 1 epoch on ./data\nsplit 50/50\n`,
    );
    const c = compile(fs.readFileSync(f, 'utf8'), { file: f });
    const seen: RunEvent[] = [];
    const events = new Events();
    events.on((e) => seen.push(e));
    await expect(
      run({
        plan: c.plan!,
        recipeText: '',
        events,
        backend: 'wasm',
        env: { ...process.env, TLR_CACHE: path.join(root, 'cache'), TLR_WORKERS: '0' },
      }),
    ).rejects.toThrow(/cannot be read \(more than 1%\)/);
    const warned = seen.flatMap((e) => (e.type === 'warning' && e.file ? [path.basename(e.file)] : []));
    expect(warned.length).toBeGreaterThan(0);
    expect(warned.every((n) => ['fifo.png', 'dangling.png', 'loop.png', 'escape.png'].includes(n))).toBe(true);
  }, 30_000);

  it('tlr check --deep decodes every image and names those a run could not read, before any run', async () => {
    const { tlrAsync } = await import('../helpers/cli.js');
    const { root } = hostile();
    fs.writeFileSync(path.join(root, 'data', 'real', 'broken.png'), 'not an image');
    const f = path.join(root, 'r.tlr');
    fs.writeFileSync(f, 'from resnet18 weights none input 32\ntrain 1 epoch on ./data\nsplit 50/50\n');
    const plain = await tlrAsync('check', f);
    expect(plain.out.trim()).toBe(`${f}: ok`);
    const r = await tlrAsync('check', '--deep', f);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/warning: .*broken\.png: cannot be read as an image/);
    expect(r.out).toMatch(/warning: .*fifo\.png is not a regular file/);
    expect(r.out).toMatch(
      /error: 6 of the 19 images of the training data cannot be read \(more than 1%: tlr run would stop\)/,
    );
  }, 20_000);
});
