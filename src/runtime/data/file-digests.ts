import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../files/atomic.js';
import { cacheRoot } from '../weights/locate.js';

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
// dropped and rebuilt by hashing.

const INDEX_FORMAT = 'tlr-stat-index';
const INDEX_VERSION = 1;
/** How much older than its hashing a file's times must be for its entry to be trusted, in ms. */
const RACY_MS = 2000;

/**
 * One folder's entries, by column (a million entries parse as a few arrays, not a million objects): each file's stat
 * when it was hashed (times in ms with their fraction, as Node reports them), when it was hashed, and its sha256.
 */
interface Columns {
  name: string[];
  size: number[];
  mtime: number[];
  ctime: number[];
  ino: number[];
  at: number[];
  sha: string[];
}
const COLUMNS = ['name', 'size', 'mtime', 'ctime', 'ino', 'at', 'sha'] as const;

interface FolderIndex {
  readonly file: string;
  readonly dir: string;
  readonly cols: Columns;
  /** Row of each name. */
  readonly rows: Map<string, number>;
  dirty: boolean;
}

const folders = new Map<string, FolderIndex>();
/** Files hashed, and digests the index answered, since the process started (bench/data-scale.ts prints them). */
export const digestCounts = { hashed: 0, fromIndex: 0 };

/** The index file of a folder of images (under the cache as it is now: tests move TLR_CACHE). */
const indexFile = (dir: string) =>
  path.join(
    cacheRoot(process.env),
    'stat-index',
    `${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.json`,
  );

// The folder of the last digest: images come folder by folder, and a million lookups of the cache root and a key
// cost a second (a change of TLR_CACHE is seen at the next folder, or after forgetDigests).
let last: { dir: string; index: FolderIndex } | null = null;

function folderIndex(dir: string): FolderIndex {
  if (last?.dir === dir) return last.index;
  const key = `${cacheRoot(process.env)}\0${dir}`;
  let f = folders.get(key);
  if (!f) {
    const file = indexFile(dir);
    const cols = readIndex(file, dir);
    f = { file, dir, cols, rows: new Map(cols.name.map((n, i) => [n, i])), dirty: false };
    folders.set(key, f);
  }
  last = { dir, index: f };
  return f;
}

const empty = (): Columns => ({ name: [], size: [], mtime: [], ctime: [], ino: [], at: [], sha: [] });

/** An index file's columns; none when it is missing, for another folder, or damaged (it is then rebuilt). */
function readIndex(file: string, dir: string): Columns {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return empty();
  }
  if (v?.['format'] !== INDEX_FORMAT || v['version'] !== INDEX_VERSION || v['dir'] !== dir) return empty();
  const cols = v['columns'] as Record<string, unknown[]> | undefined;
  const n = Array.isArray(cols?.['name']) ? cols['name'].length : -1;
  const ok =
    n >= 0 &&
    COLUMNS.every((c) => Array.isArray(cols![c]) && cols![c]!.length === n) &&
    cols!['name']!.every((x) => typeof x === 'string') &&
    cols!['sha']!.every((x) => typeof x === 'string' && x.length === 64) &&
    COLUMNS.slice(1, 6).every((c) => cols![c]!.every((x) => typeof x === 'number'));
  return ok ? (cols as unknown as Columns) : empty();
}

/**
 * A file's sha256; an entry that is not a readable regular file digests as what it is (`missing:CODE`, `not-a-file`,
 * `unreadable:CODE`): it will be reported unreadable, never opened.
 */
export function fileDigest(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code}`;
  }
  if (!st.isFile()) return 'not-a-file';
  const abs = path.isAbsolute(file) ? path.normalize(file) : path.resolve(file);
  const cut = abs.lastIndexOf(path.sep);
  const index = folderIndex(abs.slice(0, cut)),
    name = abs.slice(cut + 1);
  const row = index.rows.get(name),
    c = index.cols;
  if (
    row !== undefined &&
    c.size[row] === st.size &&
    c.mtime[row] === st.mtimeMs &&
    c.ctime[row] === st.ctimeMs &&
    c.ino[row] === st.ino &&
    Math.max(st.mtimeMs, st.ctimeMs) + RACY_MS < c.at[row]!
  ) {
    digestCounts.fromIndex++;
    return c.sha[row]!;
  }
  digestCounts.hashed++;
  const at = Date.now();
  let sha: string;
  try {
    sha = createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code}`;
  }
  const r = row ?? index.cols.name.push(name) - 1;
  index.cols.size[r] = st.size;
  index.cols.mtime[r] = st.mtimeMs;
  index.cols.ctime[r] = st.ctimeMs;
  index.cols.ino[r] = st.ino;
  index.cols.at[r] = at;
  index.cols.sha[r] = sha;
  index.rows.set(name, r);
  index.dirty = true;
  return sha;
}

/** Writes the indexes that changed (atomically); a cache that cannot be written only costs hashing next time. */
export function saveDigests(): void {
  for (const f of folders.values()) {
    if (!f.dirty) continue;
    const text = JSON.stringify({ format: INDEX_FORMAT, version: INDEX_VERSION, dir: f.dir, columns: f.cols });
    try {
      fs.mkdirSync(path.dirname(f.file), { recursive: true });
      writeFileAtomic(f.file, `${text}\n`);
      f.dirty = false;
    } catch {
      // A read-only cache: the digests stay right, only slower.
    }
  }
}

/** Forgets the indexes read into memory (the next digest reads them from disk again): for a second run in one process. */
export function forgetDigests(): void {
  folders.clear();
  last = null;
}
