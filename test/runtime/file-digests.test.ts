import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestCounts, fileDigest, forgetDigests, saveDigests } from '../../src/runtime/data/file-digests.js';
import { featureKey } from '../../src/engines/tfjs/train/features.js';
import type { Item } from '../../src/runtime/data/dataset.js';

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
