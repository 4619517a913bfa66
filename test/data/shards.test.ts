import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlrAsync } from '../helpers/cli.js';
import { listEntries, probeData, readMember, SHARDS_INDEX } from '../../src/data/formats/index.js';
import { compile } from '../../src/compiler/index.js';
import { deepCheck } from '../../src/cli/deep-check.js';
import { describeItem, listSplits, type Item } from '../../src/runtime/images/dataset.js';

// tlr pack and the shards format: the shards hold the folder's images byte for byte, in its order
// (so they split as the folder does), packing is reproducible, and bad shards are named with the
// member at fault. Training on shards with both engines is in test/engines/torch/engine.test.ts.

const FIXTURE = path.resolve(__dirname, '../fixtures/data/strawberries');
let dir = '';
const at = (...p: string[]) => path.join(dir, ...p);

/** A tar written with tar-stream from [name, content] pairs. */
async function writeTar(file: string, members: [string, string | Buffer][]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, fs.createWriteStream(file));
  for (const [name, data] of members) pack.entry({ name }, Buffer.isBuffer(data) ? data : Buffer.from(data));
  pack.finalize();
  await done;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-shards-'));
  const r = await tlrAsync('pack', FIXTURE, '--out', at('shards'), '--shard-size', '4');
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/shards: 15 images of 2 classes in 4 shards/);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('tlr pack', () => {
  it('writes each image byte for byte, labelled, in the folder order; the recipe splits as the folder does', () => {
    const probe = probeData(at('shards'));
    expect(probe.ok && probe.info.format).toBe('shards');
    if (!probe.ok) return;
    expect(probe.info.splits.train!.map((c) => [c.name, c.images])).toEqual([
      ['diseased', 6],
      ['healthy', 9],
    ]);
    const members = listEntries({ path: at('shards'), format: 'shards', part: 'train' }, ['diseased', 'healthy']);
    const files = listEntries({ path: FIXTURE, format: 'folders', part: 'train' }, ['diseased', 'healthy']);
    expect(members).toHaveLength(files.length);
    members.forEach((m, i) => {
      const f = files[i]!;
      if (m.kind !== 'member' || f.kind !== 'file') throw new Error('unexpected entry kinds');
      expect(m.label).toBe(f.label);
      expect(m.name).toContain(path.basename(f.path, '.png'));
      expect(readMember(m).equals(fs.readFileSync(f.path))).toBe(true);
    });
    const recipe = (on: string) =>
      compile(`from mobilenet_v2 weights none input 32 head dense(2) train 1 epoch on ${on}\nsplit 60/20/20\n`, {
        file: at('r.tlr'),
      }).plan!;
    const stem = (s: string) => s.replace(/^.*?(\d{9}_)?([^/[\]]+?)(\.png)?\]?$/, '$2');
    const bySplit = (plan: ReturnType<typeof recipe>) =>
      Object.values(listSplits(plan)).map((items) => items.map((it: Item) => stem(describeItem(it))));
    expect(bySplit(recipe(at('shards')))).toEqual(bySplit(recipe(FIXTURE)));
  });

  it('packs the same images into the same bytes; refuses to overwrite what it did not write; --force replaces', async () => {
    const again = await tlrAsync('pack', FIXTURE, '--out', at('again'), '--shard-size', '4');
    expect(again.code, again.err).toBe(0);
    for (const f of ['000000.tar', '000003.tar', SHARDS_INDEX])
      expect(fs.readFileSync(at('again', f)).equals(fs.readFileSync(at('shards', f)))).toBe(true);
    const twice = await tlrAsync('pack', FIXTURE, '--out', at('again'));
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/holds shards already; add --force/);
    const forced = await tlrAsync('pack', FIXTURE, '--out', at('again'), '--force');
    expect(forced.code, forced.err).toBe(0);
    expect(fs.readdirSync(at('again')).filter((f) => f.endsWith('.tar'))).toEqual(['000000.tar']);
    fs.mkdirSync(at('mine'));
    fs.writeFileSync(at('mine', 'notes.txt'), 'mine');
    const mine = await tlrAsync('pack', FIXTURE, '--out', at('mine'));
    expect(mine.code).toBe(2);
    expect(mine.err).toMatch(/a folder tlr did not write .* notes\.txt/);
    expect(fs.readFileSync(at('mine', 'notes.txt'), 'utf8')).toBe('mine');
    const inside = await tlrAsync('pack', FIXTURE, '--out', path.join(FIXTURE, 'shards'));
    expect(inside.err).toMatch(/inside the data folder/);
    const split = await tlrAsync('pack', path.resolve(FIXTURE, '../split'), '--out', at('split'));
    expect(split.err).toMatch(/has train\/val\/test folders: pack each one/);
  });
});

describe('bad shards', () => {
  const indexOf = async (name: string, members: [string, string | Buffer][], classes = 'a\nb\n') => {
    const d = at(name);
    fs.mkdirSync(d);
    await writeTar(path.join(d, '000000.tar'), members);
    if (classes) fs.writeFileSync(path.join(d, 'classes.txt'), classes);
    return { d, r: await tlrAsync('pack', '--index', d) };
  };
  const png = () => fs.readFileSync(path.join(FIXTURE, 'healthy', 'healthy-0.png'));

  it('indexes shards made elsewhere (classes from classes.txt), which then plan and read', async () => {
    const { d, r } = await indexOf('foreign', [
      ['x/k1.png', png()],
      ['x/k1.cls', '1'],
      ['x/k.2.png', png()],
      ['x/k.cls', '0'],
      ['x/k.2.cls', '0'],
      ['x/k.png', png()],
    ]);
    expect(r.code, r.err).toBe(0);
    const probe = probeData(d);
    expect(probe.ok && probe.info.splits.train!.map((c) => c.images)).toEqual([1, 1]);
    // WebDataset's rule: the key ends at the first dot of the base name (x/k.2.png is key x/k, ext 2.png).
    expect(r.out).toMatch(/2 images of 2 classes in 1 shard/);
  });

  it.each([
    [
      'a member without its label',
      [
        ['k1.png', 'PNG'],
        ['k2.png', 'PNG'],
        ['k2.cls', '0'],
      ],
      /000000\.tar: member k1\.png has no label \(no k1\.cls beside it\)/,
    ],
    ['a label without its image', [['k1.cls', '0']], /000000\.tar: member k1\.cls labels no image/],
    [
      'an unknown class',
      [
        ['k1.png', 'PNG'],
        ['k1.cls', '7'],
      ],
      /000000\.tar: member k1\.cls says class "7", but there are 2 classes/,
    ],
    [
      'a label that is no number',
      [
        ['k1.png', 'PNG'],
        ['k1.cls', 'cat'],
      ],
      /member k1\.cls says class "cat"/,
    ],
  ] as [string, [string, string][], RegExp][])('%s is named with its shard', async (name, members, message) => {
    const { r } = await indexOf(name.replace(/\W/g, '-'), members);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
  });

  it('a truncated shard: indexing names it and the last whole member; an indexed one that shrank is refused', async () => {
    const d = at('cut');
    fs.cpSync(at('shards'), d, { recursive: true });
    const tarFile = path.join(d, '000001.tar');
    fs.truncateSync(tarFile, 3000);
    const probe = probeData(d);
    expect(probe.ok).toBe(false);
    if (!probe.ok) {
      expect(probe.message).toMatch(/000001\.tar has 3000 bytes where the index says 9216/);
      expect(probe.hints.join()).toMatch(/tlr pack --index/);
    }
    const checked = compile(`from mobilenet_v2 weights none input 32 head dense(2) train 1 epoch on ${d}\n`, {
      file: at('r.tlr'),
    });
    expect(checked.diagnostics.map((x) => x.message).join()).toMatch(/changed since tlr-shards\.json was written/);
    const r = await tlrAsync('pack', '--index', d);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(
      /000001\.tar is truncated or not a tar file \(.*; the last whole member is 000000005_diseased-5\.png\)/,
    );
    // A member cut short at read time names the shard and the member.
    const m = listEntries({ path: at('shards'), format: 'shards', part: 'train' }, ['diseased', 'healthy'])[7]!;
    if (m.kind !== 'member') throw new Error('not a member');
    expect(() => readMember({ ...m, shard: tarFile })).toThrow(/000001\.tar: member .*healthy-1\.png is cut short/);
  });

  it('tlr check --deep decodes the images inside shards and names a damaged one by shard and member', async () => {
    const d = at('damaged');
    fs.cpSync(at('shards'), d, { recursive: true });
    const m = listEntries({ path: d, format: 'shards', part: 'train' }, ['diseased', 'healthy'])[6]!;
    if (m.kind !== 'member') throw new Error('not a member');
    const fd = fs.openSync(m.shard, 'r+');
    fs.writeSync(fd, Buffer.alloc(m.size), 0, m.size, m.offset); // same size: the index still matches
    fs.closeSync(fd);
    const plan = compile(`from mobilenet_v2 weights none input 32 head dense(2) train 1 epoch on ${d}\n`, {
      file: at('r.tlr'),
    }).plan!;
    const r = await deepCheck(plan);
    expect(r.images).toBe(15);
    expect(r.unreadable.map((u) => u.file)).toEqual([`${m.shard}[${m.name}]`]);
    expect(r.unreadable[0]!.reason).toMatch(/cannot be read as an image/);
  });

  it('a folder of shards without an index says to index it', () => {
    const d = at('bare');
    fs.mkdirSync(d);
    fs.copyFileSync(at('shards', '000000.tar'), path.join(d, '000000.tar'));
    const probe = probeData(d);
    expect(!probe.ok && probe.message).toMatch(/holds tar shards but no tlr-shards\.json/);
    expect(!probe.ok && probe.hints.join()).toMatch(/tlr pack --index/);
  });
});
