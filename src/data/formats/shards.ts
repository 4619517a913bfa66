import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SplitName } from '../layout.js';
import { DataError, fail, type DataFormatDef, type Entry, type ProbeResult } from './types.js';

// A folder of WebDataset-style tar shards (000000.tar, 000001.tar, …: KEY.jpg or KEY.png beside
// KEY.cls, the class index as text) with tlr's index of them, tlr-shards.json: the classes and, per
// shard, each image's byte range. `tlr pack` writes both; `tlr pack --index` indexes shards made
// elsewhere. The index is why a plan of a million packed images reads one file, not every tar, and
// why an image is read by its byte range (the tar is uncompressed) without walking the shard.

export const SHARDS_INDEX = 'tlr-shards.json';
export const SHARDS_FORMAT = 'tlr-shards';
export const SHARDS_VERSION = 1;
/** A shard's name: six digits and .tar, as WebDataset's writers number them. */
export const SHARD_NAME = /^\d{6}\.tar$/;

/** One image in a shard: its key, extension, byte range and class index. */
export type ShardMember = readonly [key: string, ext: string, offset: number, size: number, label: number];

export interface ShardIndex {
  readonly format: typeof SHARDS_FORMAT;
  readonly version: typeof SHARDS_VERSION;
  readonly classes: readonly string[];
  readonly shards: readonly {
    readonly file: string;
    readonly bytes: number;
    readonly members: readonly ShardMember[];
  }[];
}

const isMember = (m: unknown, classes: number): m is ShardMember =>
  Array.isArray(m) &&
  m.length === 5 &&
  typeof m[0] === 'string' &&
  typeof m[1] === 'string' &&
  [m[2], m[3], m[4]].every((n) => Number.isSafeInteger(n) && n >= 0) &&
  m[4] < classes;

/** What is wrong with a parsed index, naming the shard and the item; null when it is whole. */
function indexProblem(ix: ShardIndex): string | null {
  if (!Array.isArray(ix.classes) || !ix.classes.length || !ix.classes.every((c) => typeof c === 'string'))
    return 'its classes are not a list of names';
  if (!Array.isArray(ix.shards)) return 'it has no list of shards';
  for (const [i, s] of ix.shards.entries()) {
    if (typeof s?.file !== 'string' || !SHARD_NAME.test(s.file)) return `shard ${i} is not named NNNNNN.tar`;
    if (!Number.isSafeInteger(s.bytes) || !Array.isArray(s.members)) return `${s.file} has no size or members`;
    const bad = s.members.findIndex((m: unknown) => !isMember(m, ix.classes.length) || m[2] + m[3] > s.bytes);
    if (bad >= 0) return `${s.file}'s member ${bad} is ${JSON.stringify(s.members[bad]).slice(0, 80)}`;
  }
  return null;
}

/** The index of the shards in `dir`; a DataError names the file and says what to do. */
export function readShardIndex(dir: string): ShardIndex {
  const file = path.join(dir, SHARDS_INDEX);
  const redo = `index the shards again: tlr pack --index ${dir}`;
  let ix: ShardIndex;
  try {
    ix = JSON.parse(fs.readFileSync(file, 'utf8')) as ShardIndex;
  } catch (e) {
    throw new DataError(`${file} cannot be read as JSON (${(e as Error).message}); ${redo}`);
  }
  if (ix?.format !== SHARDS_FORMAT) throw new DataError(`${file} is not tlr's shard index (format ${ix?.format})`);
  if (ix.version !== SHARDS_VERSION)
    throw new DataError(`${file} is a version ${ix.version} shard index; this tlr reads version ${SHARDS_VERSION}`);
  const problem = indexProblem(ix);
  if (problem) throw new DataError(`${file} is damaged: ${problem}; ${redo}`);
  return ix;
}

/** Shards whose size is not what the index says (changed or truncated since it was written). */
function changedShards(dir: string, ix: ShardIndex): string[] {
  return ix.shards.flatMap((s) => {
    const p = path.join(dir, s.file);
    let bytes: number;
    try {
      bytes = fs.statSync(p).size;
    } catch {
      return [`${p} is missing`];
    }
    return bytes === s.bytes ? [] : [`${p} has ${bytes} bytes where the index says ${s.bytes}`];
  });
}

/** The index of the shards in `dir` when it is whole and matches the shards; else why tlr cannot read them. */
function checkedIndex(dir: string): ShardIndex | Extract<ProbeResult, { ok: false }> {
  let ix: ShardIndex;
  try {
    ix = readShardIndex(dir);
  } catch (e) {
    return fail('unreadable', (e as Error).message) as Extract<ProbeResult, { ok: false }>;
  }
  const changed = changedShards(dir, ix);
  if (!changed.length) return ix;
  return fail(
    'unreadable',
    `the shards in ${dir} changed since ${SHARDS_INDEX} was written: ${changed.slice(0, 3).join('; ')}`,
    `index them again: tlr pack --index ${dir}`,
  ) as Extract<ProbeResult, { ok: false }>;
}

const hasShards = (dir: string): boolean => fs.readdirSync(dir).some((n) => SHARD_NAME.test(n));

export const shards: DataFormatDef<'shards'> = {
  name: 'shards',
  description: 'a folder of tar shards (tlr pack)',
  probe: (dir, isFile) => {
    if (isFile) return null;
    const indexed = fs.existsSync(path.join(dir, SHARDS_INDEX));
    if (!indexed && !hasShards(dir)) return null;
    if (!indexed)
      return fail(
        'unreadable',
        `${dir} holds tar shards but no ${SHARDS_INDEX}`,
        `index them once: tlr pack --index ${dir}`,
      );
    const ix = checkedIndex(dir);
    if ('ok' in ix) return ix;
    const counts = new Array<number>(ix.classes.length).fill(0);
    for (const s of ix.shards) for (const m of s.members) counts[m[4]]!++;
    const train = ix.classes.map((name, i) => ({ name, where: `class ${i} in ${dir}`, images: counts[i]! }));
    return { ok: true, info: { path: dir, format: 'shards', splits: { train } } };
  },
  list: (root: string, _part: SplitName, classes: readonly string[]): Entry[] => {
    const ix = readShardIndex(root);
    // The recipe's classes are the index's (the probe gave them); map by name all the same.
    const to = ix.classes.map((c) => classes.indexOf(c));
    const out: Entry[] = [];
    for (const s of ix.shards) {
      const shard = path.join(root, s.file);
      for (const [key, ext, offset, size, label] of s.members)
        if (to[label]! >= 0)
          out.push({ kind: 'member', shard, name: `${key}.${ext}`, offset, size, label: to[label]! });
    }
    return out;
  },
};

/** An image's bytes inside its shard; a DataError names the shard and the member when they are not all there. */
export function readMember(m: { shard: string; name: string; offset: number; size: number }): Buffer {
  const buf = Buffer.alloc(m.size);
  let fd: number;
  try {
    fd = fs.openSync(m.shard, 'r');
  } catch (e) {
    throw new DataError(`${m.shard}: cannot be opened (${(e as NodeJS.ErrnoException).code}) to read ${m.name}`);
  }
  try {
    let got = 0;
    while (got < m.size) {
      const n = fs.readSync(fd, buf, got, m.size - got, m.offset + got);
      if (n === 0) break;
      got += n;
    }
    if (got < m.size)
      throw new DataError(
        `${m.shard}: member ${m.name} is cut short (${got} of ${m.size} bytes): the shard is truncated; ` +
          `index it again (tlr pack --index ${path.dirname(m.shard)}) or pack the data again`,
      );
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}
