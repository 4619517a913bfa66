import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheRoot } from '../files/cache-root.js';
import { writeFileAtomic } from '../files/atomic.js';

// Folder listings kept on disk, as git's untracked cache keeps them: a folder whose modification
// time, change time and inode are what they were when it was read holds the same entries (adding,
// removing or renaming one sets its times), so its names and their types are read back instead of
// listed again. As with the stat index, a listing is kept only when the folder's times were 2 s
// older than the reading (a change in the same clock tick would be missed otherwise). At a million
// images, reading the folders was half of `tlr plan`.
//
// One file per folder in TLR_CACHE/listing/: "TLRLIST1" · u32 header length · header JSON {format,
// version, dir, mtimeMs, ctimeMs, ino, at} · u32 names length · the names, sorted, each ended by a
// NUL · one type byte per name. A damaged or stale file is listed over; an unwritable cache only
// costs the listing.

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

/** A readdir entry's type. */
export const entryType = (e: fs.Dirent): number =>
  e.isSymbolicLink() ? ENTRY.link : e.isFile() ? ENTRY.file : e.isDirectory() ? ENTRY.dir : ENTRY.other;

const fileOf = (dir: string) =>
  path.join(cacheRoot(), 'listing', `${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.bin`);

/** The kept listing of `dir`, when it was made at this very stamp. */
function read(file: string, dir: string, stamp: FolderStamp): Listing | null {
  try {
    const buf = fs.readFileSync(file);
    if (buf.toString('latin1', 0, 8) !== MAGIC) return null;
    const headLen = buf.readUInt32LE(8);
    const head = JSON.parse(buf.toString('utf8', 12, 12 + headLen));
    if (
      head?.format !== FORMAT ||
      head.version !== VERSION ||
      head.dir !== dir ||
      head.mtimeMs !== stamp.mtimeMs ||
      head.ctimeMs !== stamp.ctimeMs ||
      head.ino !== stamp.ino ||
      !(Math.max(stamp.mtimeMs, stamp.ctimeMs) + RACY_MS < head.at)
    )
      return null;
    let at = 12 + headLen;
    const namesLen = buf.readUInt32LE(at);
    at += 4;
    const text = buf.toString('utf8', at, at + namesLen);
    at += namesLen;
    const names = text ? text.slice(0, -1).split('\0') : [];
    if (at + names.length !== buf.length) return null;
    return { names, types: Uint8Array.from(buf.subarray(at)) };
  } catch {
    return null;
  }
}

function write(file: string, dir: string, stamp: FolderStamp, at: number, l: Listing): void {
  const head = Buffer.from(JSON.stringify({ format: FORMAT, version: VERSION, dir, ...stamp, at }));
  const names = Buffer.from(l.names.map((n) => `${n}\0`).join(''));
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  try {
    writeFileAtomic(
      file,
      Buffer.concat([Buffer.from(MAGIC, 'latin1'), u32(head.length), head, u32(names.length), names, l.types]),
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
  if (Math.max(stamp.mtimeMs, stamp.ctimeMs) + RACY_MS < at) write(file, abs, stamp, at, listing);
  return listing;
}
