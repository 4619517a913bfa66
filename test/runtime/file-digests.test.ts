import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digestCounts,
  fileDigest,
  fileDigests,
  forgetDigests,
  saveDigests,
} from '../../src/runtime/images/file-digests.js';
import { statMany } from '../../src/runtime/images/stat-many.js';
import { forgetWalks, walkImages } from '../../src/data/layout.js';
import { featureKey } from '../../src/engines/tfjs/train/features.js';
import type { Item } from '../../src/runtime/images/dataset.js';

// The stat index: unchanged files are not hashed again (in this process or the next), and every
// change is noticed, a rewrite with the same size and modification time (touch -d) included.

let dir = '';
const before = process.env['TLR_CACHE'];
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const counts = () => ({ ...digestCounts });
const since = (c: { hashed: number; fromIndex: number }) => ({
  hashed: digestCounts.hashed - c.hashed,
  fromIndex: digestCounts.fromIndex - c.fromIndex,
});
const files = () => ['a.png', 'b.png', 'c.png'].map((n) => path.join(dir, 'data', n));

describe('file digests with a stat index', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-digests-'));
    process.env['TLR_CACHE'] = path.join(dir, 'cache');
    fs.mkdirSync(path.join(dir, 'data'));
    for (const [i, f] of files().entries()) fs.writeFileSync(f, Buffer.alloc(100, i + 1));
    // For the walks below: a class folder with a nested one.
    fs.mkdirSync(path.join(dir, 'walk', 'cat', 'more'), { recursive: true });
    for (const f of ['cat/1.png', 'cat/2.png', 'cat/more/3.png']) fs.writeFileSync(path.join(dir, 'walk', f), 'x');
    fs.mkdirSync(path.join(dir, 'walk', 'dog'));
    for (const f of ['a.png', 'b.png']) fs.writeFileSync(path.join(dir, 'walk', 'dog', f), 'x');
    // Entries are trusted only for files whose times are 2 s older than their hashing.
    await new Promise((r) => setTimeout(r, 2100));
    forgetDigests();
  });
  afterAll(() => {
    process.env['TLR_CACHE'] = before;
    if (before === undefined) delete process.env['TLR_CACHE'];
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('digests are the files’ sha256; unchanged files are answered by the index, in this process and the next', () => {
    let c = counts();
    expect(files().map(fileDigest)).toEqual(files().map(sha));
    expect(since(c)).toEqual({ hashed: 3, fromIndex: 0 });
    c = counts();
    expect(files().map(fileDigest)).toEqual(files().map(sha));
    expect(since(c)).toEqual({ hashed: 0, fromIndex: 3 });
    saveDigests();
    forgetDigests(); // as a new process would
    c = counts();
    expect(files().map(fileDigest)).toEqual(files().map(sha));
    expect(since(c)).toEqual({ hashed: 0, fromIndex: 3 });
  });

  it('notices content rewritten with the same size and modification time (touch -d)', () => {
    const [a] = files();
    const items: Item[] = files().map((p, i) => ({ kind: 'file', path: p, label: i }));
    const parts = {
      tlr: 't',
      network: 'n',
      width: null,
      weightsSha256: 'w',
      featureLayer: 'f',
      inputSize: 32,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    };
    const key = featureKey(parts, items);
    const mtime = fs.statSync(a!, { bigint: true }).mtimeNs;
    fs.writeFileSync(a!, Buffer.alloc(100, 9)); // same size
    // The very modification time back, to the nanosecond.
    const at = `@${mtime / 1_000_000_000n}.${String(mtime % 1_000_000_000n).padStart(9, '0')}`;
    const touch = spawnSync('touch', ['-d', at, a!]);
    expect(touch.status, String(touch.stderr)).toBe(0);
    expect(fs.statSync(a!, { bigint: true }).mtimeNs).toBe(mtime);
    expect(fileDigest(a!)).toBe(sha(a!));
    expect(featureKey(parts, items)).not.toBe(key);
    // And a file replaced by another (a new inode) with the same size and times.
    const b = files()[1]!;
    const st = fs.statSync(b);
    fs.writeFileSync(`${b}.new`, Buffer.alloc(100, 7));
    fs.utimesSync(`${b}.new`, st.atime, st.mtime);
    fs.renameSync(`${b}.new`, b);
    expect(fileDigest(b)).toBe(sha(b));
  });

  it('an index cut short is dropped and rebuilt by hashing', () => {
    saveDigests();
    const indexDir = path.join(dir, 'cache', 'stat-index');
    for (const f of fs.readdirSync(indexDir)) {
      const bytes = fs.readFileSync(path.join(indexDir, f));
      fs.writeFileSync(path.join(indexDir, f), bytes.subarray(0, bytes.length - 7));
    }
    forgetDigests();
    const c = counts();
    expect(fileDigests(files())).toEqual(files().map(sha));
    expect(since(c)).toEqual({ hashed: 3, fromIndex: 0 });
  });

  it('stat on several threads gives what one thread gives, failures included', () => {
    const paths = [
      ...files(),
      path.join(dir, 'data', 'none.png'),
      path.join(dir, 'data'),
      path.join(dir, 'data', 'a.png', 'x'),
    ];
    const one = statMany(paths),
      many = statMany(paths, { parallelMin: 1, threads: 3 });
    const row = (s: typeof one, i: number) => [
      s.kind(i),
      s.size(i),
      s.mtimeMs(i),
      s.ctimeMs(i),
      s.ino(i),
      s.problem(i),
    ];
    expect(paths.map((_, i) => row(many, i))).toEqual(paths.map((_, i) => row(one, i)));
    expect(paths.map((_, i) => one.problem(i))).toEqual([
      null,
      null,
      null,
      'missing:ENOENT',
      'not-a-file',
      'missing:ENOTDIR',
    ]);
  });

  it('a walk of a folder is reused in one process only while none of its folders changed', () => {
    const root = path.join(dir, 'walk');
    const names = (w: readonly { path: string }[]) => w.map((f) => path.relative(root, f.path));
    const first = walkImages(path.join(root, 'cat'), root);
    expect(names(first)).toEqual(['cat/1.png', 'cat/2.png', 'cat/more/3.png']);
    expect(walkImages(path.join(root, 'cat'), root)).toBe(first);
    // A file added in a nested folder: that folder's times changed, so the walk is done again.
    fs.writeFileSync(path.join(root, 'cat', 'more', '4.png'), 'x');
    const second = walkImages(path.join(root, 'cat'), root);
    expect(names(second)).toEqual(['cat/1.png', 'cat/2.png', 'cat/more/3.png', 'cat/more/4.png']);
    // Changed just now: never reused (as the stat index, a folder must be 2 s older than the walk).
    expect(walkImages(path.join(root, 'cat'), root)).not.toBe(second);
    fs.renameSync(path.join(root, 'cat', '1.png'), path.join(root, 'cat', '0.png'));
    expect(names(walkImages(path.join(root, 'cat'), root))[0]).toBe('cat/0.png');
  });

  it('a folder’s listing is kept on disk and read back only while the folder is unchanged', () => {
    const root = path.join(dir, 'walk');
    const names = () => walkImages(path.join(root, 'dog'), root).map((f) => path.basename(f.path));
    const listing = path.join(dir, 'cache', 'listing');
    const kept = () => (fs.existsSync(listing) ? fs.readdirSync(listing) : []);
    const before = kept();
    expect(names()).toEqual(['a.png', 'b.png']);
    const file = kept().find((f) => !before.includes(f))!;
    expect(file).toBeDefined();
    // Read back: a name changed in the kept listing (same length) is what the next walk sees.
    const bytes = fs.readFileSync(path.join(listing, file));
    fs.writeFileSync(
      path.join(listing, file),
      Buffer.from(bytes.toString('latin1').replace('b.png', 'z.png'), 'latin1'),
    );
    forgetWalks();
    expect(names()).toEqual(['a.png', 'z.png']);
    // A file added changes the folder's times: listed again. A damaged listing is listed over.
    fs.writeFileSync(path.join(root, 'dog', 'c.png'), 'x');
    forgetWalks();
    expect(names()).toEqual(['a.png', 'b.png', 'c.png']);
    fs.writeFileSync(path.join(listing, file), 'TLRLIST1garbage');
    forgetWalks();
    expect(names()).toEqual(['a.png', 'b.png', 'c.png']);
  });

  it('a damaged index is dropped and rebuilt by hashing; a missing or non-file entry digests as what it is', () => {
    saveDigests();
    const indexDir = path.join(dir, 'cache', 'stat-index');
    for (const f of fs.readdirSync(indexDir))
      fs.writeFileSync(path.join(indexDir, f), '# tlr-stat-index/1\tx\ngarbage');
    forgetDigests();
    const c = counts();
    expect(files().map(fileDigest)).toEqual(files().map(sha));
    expect(since(c).hashed).toBe(3);
    expect(fileDigest(path.join(dir, 'data', 'none.png'))).toBe('missing:ENOENT');
    expect(fileDigest(path.join(dir, 'data'))).toBe('not-a-file');
  });
});
