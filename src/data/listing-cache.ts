import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheRoot } from '../files/cache-root.js';
import { writeFileAtomic } from '../files/atomic.js';
import { decodeFramed, encodeFramed } from '../files/framed.js';

// Folder listings kept on disk, as git's untracked cache keeps them: a folder whose modification
// time, change time and inode are what they were when it was read holds the same entries (adding,
// removing or renaming one sets its times), so its names and their types are read back instead of
// listed again. As with the stat index, a listing is kept only when the folder's times were 2 s
// older than the reading (a change in the same clock tick would be missed otherwise). At a million
// images, reading the folders was half of `tlr plan`.
//
// One file per folder in TLR_CACHE/listing/, framed as files/framed.ts says: "TLRLIST1", the header
// {format, version, dir, mtimeMs, ctimeMs, ino, at}, the names sorted, then one type byte per name.
// A damaged or stale file is listed over; an unwritable cache only costs the listing.

const MAGIC = 'TLRLIST1';
const FORMAT = 'tlr-listing';
const VERSION = 1;
const RACY_MS = 2000;

/** What an entry is, as readdir says (links not followed). */
export const ENTRY = { file: 1, dir: 2, link: 3, other: 4 } as const;

/** A folder's entries, sorted by name, by column (a million entries are two arrays, not a million objects). */
export interface Listing {
  readonly names: readonly string[];
  readonly types: Uint8Array;
}

/** A folder's stat when it was read. */
export interface FolderStamp {
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
}

/** A folder's stamp now; null when it cannot be stat'ed. */
export const folderStamp = (dir: string): FolderStamp | null => {
  try {
    const st = fs.statSync(dir);
    return { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
  } catch {
    return null;
  }
};

/** Whether a folder read `at` with stamp `was` still holds what it held: the same stamp now, 2 s older than `at`. */
export const unchangedSince = (was: FolderStamp, now: FolderStamp | null, at: number): boolean =>
  now !== null &&
  now.mtimeMs === was.mtimeMs &&
  now.ctimeMs === was.ctimeMs &&
  now.ino === was.ino &&
  Math.max(was.mtimeMs, was.ctimeMs) + RACY_MS < at;

/** A readdir entry's type. */
export const entryType = (e: fs.Dirent): number =>
  e.isSymbolicLink() ? ENTRY.link : e.isFile() ? ENTRY.file : e.isDirectory() ? ENTRY.dir : ENTRY.other;

const fileOf = (dir: string) =>
  path.join(cacheRoot(), 'listing', `${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.bin`);

/** The kept listing of `dir`, when it was made at this very stamp. */
function read(file: string, dir: string, stamp: FolderStamp): Listing | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return null;
  }
  const f = decodeFramed(buf, MAGIC);
  const h = f?.head;
  if (!f || !h || h['format'] !== FORMAT || h['version'] !== VERSION || h['dir'] !== dir) return null;
  const was = { mtimeMs: h['mtimeMs'], ctimeMs: h['ctimeMs'], ino: h['ino'] } as FolderStamp;
  if (!unchangedSince(was, stamp, h['at'] as number) || f.rest.length !== f.names.length) return null;
  return { names: f.names, types: Uint8Array.from(f.rest) };
}

function write(file: string, dir: string, stamp: FolderStamp, at: number, l: Listing): void {
  try {
    writeFileAtomic(
      file,
      encodeFramed(MAGIC, { format: FORMAT, version: VERSION, dir, ...stamp, at }, l.names, [l.types]),
    );
  } catch {
    // An unwritable cache: the folder is listed again next time.
  }
}

/**
 * The entries of `dir` (hidden ones included), sorted by name: from the kept listing when the folder's stamp (taken
 * by the caller before this call) is the one it was made at, else read and kept.
 */
export function listFolder(dir: string, stamp: FolderStamp): Listing {
  const abs = path.resolve(dir);
  const file = fileOf(abs);
  const kept = read(file, abs, stamp);
  if (kept) return kept;
  const at = Date.now();
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  const listing = { names: entries.map((e) => e.name), types: Uint8Array.from(entries, entryType) };
  // Kept only when it could be read back: when the folder is already 2 s older than this reading.
  if (unchangedSince(stamp, stamp, at)) write(file, abs, stamp, at, listing);
  return listing;
}
