import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../files/atomic.js';
import { decodeFramed, encodeFramed } from '../../files/framed.js';
import { cacheRoot } from '../weights/locate.js';
import { statMany, type Stats } from './stat-many.js';

// sha256 of image files, with a stat index standing in for hashing files that have not changed, as
// git's index does: a file whose size, modification time, change time and inode are what they were
// when it was hashed keeps its digest. The change time is set by the kernel on every write and
// cannot be set back (`touch -d` sets the modification time and moves the change time to now), so
// content rewritten with its old size and modification time is still noticed. An entry is trusted
// only when both times were at least 2 s older than the moment it was hashed: a file written in the
// same clock tick as its hashing (or on a file system with coarse times) is hashed again next time.
//
// The index is an optimisation of the key and never changes what a digest is: one index file per
// folder of images in TLR_CACHE/stat-index/, rewritten atomically when it changed; a damaged one is
// dropped and rebuilt by hashing. It is binary (a million entries read in a fraction of a second,
// where JSON took seconds and most of the time went to the garbage collector), framed as
// files/framed.ts says: "TLRSTAT2", the header {format, version, dir, count}, the names, then five
// float64 columns of `count` (size, mtime, ctime, inode, when hashed; times in ms with their
// fraction, as Node reports them) and `count` sha256 digests, 32 bytes each.

const MAGIC = 'TLRSTAT2';
const INDEX_FORMAT = 'tlr-stat-index';
const INDEX_VERSION = 2;
/** How much older than its hashing a file's times must be for its entry to be trusted, in ms. */
const RACY_MS = 2000;

/** A file's entry: its stat when it was hashed, when, and its sha256 (hex). */
interface Row {
  readonly size: number;
  readonly mtime: number;
  readonly ctime: number;
  readonly ino: number;
  readonly at: number;
  readonly sha: string;
}

/** One folder's index as read (columns, looked up by name) and what this process hashed since (`fresh`). */
interface FolderIndex {
  readonly file: string;
  readonly dir: string;
  readonly names: readonly string[];
  /** size, mtime, ctime, ino, at: `names.length` each. */
  readonly cols: readonly Float64Array[];
  readonly shas: Buffer;
  /** Row of each name, made on the first lookup that the cursor misses. */
  rows: Map<string, number> | null;
  /** The row after the last one found: files come in the order they were indexed, so it is usually the next. */
  cursor: number;
  readonly fresh: Map<string, Row>;
}

const folders = new Map<string, FolderIndex>();
/** Files hashed, and digests the index answered, since the process started (bench/data-scale.ts prints them). */
export const digestCounts = { hashed: 0, fromIndex: 0 };

/** The index file of a folder of images (under the cache as it is now: tests move TLR_CACHE). */
const indexFile = (dir: string) =>
  path.join(cacheRoot(process.env), 'stat-index', `${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.bin`);

// The folder of the last digest: images come folder by folder, and a million lookups of the cache root and a key
// cost a second (a change of TLR_CACHE is seen at the next folder, or after forgetDigests).
let last: { dir: string; index: FolderIndex } | null = null;

function folderIndex(dir: string): FolderIndex {
  if (last?.dir === dir) return last.index;
  const key = `${cacheRoot(process.env)}\0${dir}`;
  let f = folders.get(key);
  if (!f) {
    const file = indexFile(dir);
    f = { file, dir, ...readIndex(file, dir), rows: null, cursor: 0, fresh: new Map() };
    folders.set(key, f);
  }
  last = { dir, index: f };
  return f;
}

type Columns = Pick<FolderIndex, 'names' | 'cols' | 'shas'>;
const empty = (): Columns => ({
  names: [],
  cols: [0, 1, 2, 3, 4].map(() => new Float64Array(0)),
  shas: Buffer.alloc(0),
});

/** An index file's columns; none when it is missing, for another folder, or damaged (it is then rebuilt). */
function readIndex(file: string, dir: string): Columns {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return empty();
  }
  const f = decodeFramed(buf, MAGIC);
  const n = f?.head['count'];
  if (
    !f ||
    f.head['format'] !== INDEX_FORMAT ||
    f.head['version'] !== INDEX_VERSION ||
    f.head['dir'] !== dir ||
    !Number.isInteger(n) ||
    f.names.length !== n ||
    f.rest.length !== (n as number) * (5 * 8 + 32)
  )
    return empty();
  const column = (k: number) => f.rest.subarray(k * f.names.length * 8, (k + 1) * f.names.length * 8);
  // Copied out, so each column is aligned for a Float64Array.
  const cols = [0, 1, 2, 3, 4].map((k) => new Float64Array(Uint8Array.from(column(k)).buffer));
  return { names: f.names, cols, shas: f.rest.subarray(5 * f.names.length * 8) };
}

/** A path absolute and normalized, without path.resolve's cost for one that already is (a run's are). */
const absolute = (file: string) =>
  file.startsWith('/') && !/\/\.{0,2}\/|\/\.{1,2}$|\/$/.test(file) ? file : path.resolve(file);

/** The index's row for a name in the file read, or -1. */
function rowOf(index: FolderIndex, name: string): number {
  if (index.names[index.cursor] === name) return index.cursor++;
  index.rows ??= new Map(index.names.map((n, i) => [n, i]));
  const row = index.rows.get(name) ?? -1;
  if (row >= 0) index.cursor = row + 1;
  return row;
}

/** Whether an entry (a file's size, times and inode when it was hashed `at`) still stands for the file stat'ed as i. */
const trusted = (size: number, mtime: number, ctime: number, ino: number, at: number, st: Stats, i: number) =>
  size === st.size(i) &&
  mtime === st.mtimeMs(i) &&
  ctime === st.ctimeMs(i) &&
  ino === st.ino(i) &&
  Math.max(mtime, ctime) + RACY_MS < at;

/** The digest the index holds for file i, when its entry still stands. */
function fromIndex(index: FolderIndex, name: string, st: Stats, i: number): string | null {
  const f = index.fresh.get(name);
  if (f) return trusted(f.size, f.mtime, f.ctime, f.ino, f.at, st, i) ? f.sha : null;
  const row = rowOf(index, name);
  if (row < 0) return null;
  const [size, mtime, ctime, ino, at] = index.cols as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  return trusted(size[row]!, mtime[row]!, ctime[row]!, ino[row]!, at[row]!, st, i)
    ? index.shas.toString('hex', row * 32, row * 32 + 32)
    : null;
}

/** File i's digest: from the index when its stat matches its entry, else by hashing (recorded). */
function digestOf(abs: string, st: Stats, i: number): string {
  const cut = abs.lastIndexOf(path.sep);
  const index = folderIndex(abs.slice(0, cut)),
    name = abs.slice(cut + 1);
  const known = fromIndex(index, name, st, i);
  if (known) {
    digestCounts.fromIndex++;
    return known;
  }
  digestCounts.hashed++;
  const at = Date.now();
  let sha: string;
  try {
    sha = createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code}`;
  }
  index.fresh.set(name, { size: st.size(i), mtime: st.mtimeMs(i), ctime: st.ctimeMs(i), ino: st.ino(i), at, sha });
  return sha;
}

/**
 * Each file's sha256, handed to `each` in order (none kept: a million digests kept would be promoted and collected);
 * an entry that is not a readable regular file digests as what it is (`missing:CODE`, `not-a-file`,
 * `unreadable:CODE`): it will be reported unreadable, never opened. Many files are stat'ed on several threads
 * (stat-many.ts): at a million files the stat is most of a warm key's time.
 */
export function eachFileDigest(files: readonly string[], each: (digest: string, i: number) => void): void {
  const abs = files.map(absolute);
  const stats = statMany(abs);
  for (let i = 0; i < abs.length; i++) each(stats.problem(i) ?? digestOf(abs[i]!, stats, i), i);
}

/** Files' sha256, in order (see eachFileDigest). */
export function fileDigests(files: readonly string[]): string[] {
  const out: string[] = [];
  eachFileDigest(files, (d) => out.push(d));
  return out;
}

/** One file's sha256 (see fileDigests). */
export const fileDigest = (file: string): string => fileDigests([file])[0]!;

/** The rows to write: those read, with what this process hashed in their place or added. */
function merged(f: FolderIndex): { names: string[]; rows: Row[] } {
  const names: string[] = [],
    rows: Row[] = [];
  f.names.forEach((n, i) => {
    if (f.fresh.has(n)) return;
    names.push(n);
    const [size, mtime, ctime, ino, at] = f.cols.map((c) => c[i]!) as [number, number, number, number, number];
    rows.push({ size, mtime, ctime, ino, at, sha: f.shas.toString('hex', i * 32, i * 32 + 32) });
  });
  for (const [n, r] of f.fresh) {
    names.push(n);
    rows.push(r);
  }
  return { names, rows };
}

/** An index file's bytes (the layout at the top of this file). */
function encode(dir: string, names: readonly string[], rows: readonly Row[]): Buffer {
  const cols = (['size', 'mtime', 'ctime', 'ino', 'at'] as const).map((k) =>
    Buffer.from(Float64Array.from(rows, (r) => r[k]).buffer),
  );
  const shas = Buffer.alloc(rows.length * 32);
  rows.forEach((r, i) => {
    shas.write(r.sha, i * 32, 'hex');
  });
  const head = { format: INDEX_FORMAT, version: INDEX_VERSION, dir, count: rows.length };
  return encodeFramed(MAGIC, head, names, [...cols, shas]);
}

/** Writes the indexes that changed (atomically); a cache that cannot be written only costs hashing next time. */
export function saveDigests(): void {
  for (const f of folders.values()) {
    if (!f.fresh.size) continue;
    const { names, rows } = merged(f);
    try {
      fs.mkdirSync(path.dirname(f.file), { recursive: true });
      writeFileAtomic(f.file, encode(f.dir, names, rows));
      // The JSON index of tlr 0.1's first versions, if any: this one replaces it.
      fs.rmSync(f.file.replace(/\.bin$/, '.json'), { force: true });
    } catch {
      // A read-only cache: the digests stay right, only slower.
      continue;
    }
    // What was written, read back as the next process will read it.
    folders.set(`${cacheRoot(process.env)}\0${f.dir}`, {
      ...f,
      ...readIndex(f.file, f.dir),
      rows: null,
      cursor: 0,
      fresh: new Map(),
    });
  }
  last = null;
}

/**
 * Forgets the indexes read into memory (the next digest reads them from disk again): for a second run in one process.
 */
export function forgetDigests(): void {
  folders.clear();
  last = null;
}
