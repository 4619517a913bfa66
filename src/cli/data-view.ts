import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inside, isImageFile } from '../data/layout.js';
import { probeData, type Probe, type ProbeResult } from '../data/formats/index.js';
import { displayPath } from '../paths.js';

// Which data one side of `tlr diff` is compiled against. A recipe in the work tree sees the data as it is now. A
// recipe at a git revision sees the data that revision had: its data folder is read through git's tree and laid out
// in a temporary folder (every name; the bytes of the files a format reads when checking, such as a labels CSV, IDX
// headers or a shard's index, but never an image's), which the ordinary probe then reads. Data that is not in git at
// that revision is looked up in the runs made from it (cli/recorded-data.ts), or said to be not compared.

/** One data folder a side named, and where its classes and counts came from. */
export interface DataRead {
  readonly root: string;
  /** `not in git`: not in the revision's tree (ignored or untracked); `outside`: not in the repository. */
  readonly from: 'work tree' | 'git' | 'not in git' | 'outside';
}

/** A side's probe, and what it read; `close` removes the temporary tree. */
export interface DataLens {
  readonly probe: Probe | undefined;
  readonly reads: DataRead[];
  close(): void;
}

interface TreeEntry {
  readonly mode: string;
  readonly oid: string;
  readonly path: string;
}

const git = (cwd: string, args: readonly string[], input?: string) =>
  spawnSync('git', args, { cwd, input, maxBuffer: 1 << 30 });

/** The blobs and links below `rel` in `rev`'s tree (`rel` itself when it is a file); empty when it is not there. */
function treeEntries(top: string, rev: string, rel: string): TreeEntry[] {
  const r = git(top, ['ls-tree', '-r', '-z', '--full-tree', rev, '--', rel]);
  if (r.status !== 0) return [];
  return r.stdout
    .toString()
    .split('\0')
    .filter(Boolean)
    .flatMap((line) => {
      const m = /^(\d{6}) (blob|tree|commit) ([0-9a-f]+)\t([\s\S]+)$/.exec(line);
      return m && m[2] === 'blob' ? [{ mode: m[1]!, oid: m[3]!, path: m[4]! }] : [];
    });
}

/** The bytes of blobs, by object id, in one `git cat-file --batch` (a data set may hold many small files). */
function blobs(top: string, oids: readonly string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!oids.length) return out;
  const r = git(top, ['cat-file', '--batch'], `${oids.join('\n')}\n`);
  if (r.status !== 0) throw new Error(`git cat-file failed: ${r.stderr.toString().trim()}`);
  const buf = r.stdout;
  for (let at = 0; at < buf.length; ) {
    const eol = buf.indexOf(10, at);
    const [oid, , size] = buf.subarray(at, eol).toString().split(' ');
    const n = Number(size);
    out.set(oid!, buf.subarray(eol + 1, eol + 1 + n));
    at = eol + 1 + n + 1;
  }
  return out;
}

/** A tree path that stays where it is written: no empty, `.`, `..` or `.git` part (git refuses them too). */
const safe = (p: string) => p.split('/').every((s) => s && s !== '.' && s !== '..' && s.toLowerCase() !== '.git');

/** Writes `entries` below `shadow` (as they stand below the repository's root): files first, then links. */
function layOut(top: string, shadow: string, entries: readonly TreeEntry[]): void {
  const links = entries.filter((e) => e.mode === '120000');
  const files = entries.filter((e) => e.mode !== '120000' && safe(e.path));
  const needed = blobs(top, [...new Set([...links, ...files.filter((e) => !isImageFile(e.path))].map((e) => e.oid))]);
  for (const e of files) {
    const p = path.join(shadow, ...e.path.split('/'));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    // Nothing here is a link yet, so every write stays in the temporary tree.
    fs.writeFileSync(p, needed.get(e.oid) ?? '', { flag: 'wx' });
  }
  for (const e of links) {
    if (!safe(e.path)) continue;
    const p = path.join(shadow, ...e.path.split('/'));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (inside(fs.realpathSync(path.dirname(p)), fs.realpathSync(shadow)))
      fs.symlinkSync(needed.get(e.oid)?.toString() ?? '', p);
  }
}

/** A probe result with the temporary tree's paths named as the work tree's. */
function unshadow(r: ProbeResult, shadow: string, top: string): ProbeResult {
  const s = (x: string) => x.split(shadow).join(top);
  if (!r.ok) return { ...r, message: s(r.message), hints: r.hints.map(s) };
  const splits = Object.fromEntries(
    Object.entries(r.info.splits).map(([k, v]) => [k, v.map((c) => ({ ...c, where: s(c.where) }))]),
  );
  return { ok: true, info: { ...r.info, path: s(r.info.path), splits } };
}

/** The data at revision `rev` (a commit) of the repository at `top`, for a recipe read from that revision. */
export function gitDataView(top: string, rev: string): DataLens {
  const reads: DataRead[] = [];
  let shadow: string | null = null;
  const probe: Probe = (abs) => {
    const rel = path.relative(top, abs);
    // Data outside the repository (or the whole repository) has no revision: it is what it is now.
    const entries = inside(abs, top) && rel ? treeEntries(top, rev, rel.split(path.sep).join('/')) : [];
    if (!entries.length) {
      reads.push({ root: abs, from: inside(abs, top) && rel ? 'not in git' : 'outside' });
      return probeData(abs);
    }
    shadow ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-diff-'));
    const here = fs.mkdtempSync(path.join(shadow, 'tree-'));
    layOut(top, here, entries);
    reads.push({ root: abs, from: 'git' });
    return unshadow(probeData(path.join(here, rel)), here, top);
  };
  return { probe, reads, close: () => shadow && fs.rmSync(shadow, { recursive: true, force: true }) };
}

/** The data as it is now, for a recipe in the work tree. */
export function workTreeView(): DataLens {
  const reads: DataRead[] = [];
  const probe: Probe = (abs) => {
    reads.push({ root: abs, from: 'work tree' });
    return probeData(abs);
  };
  return { probe, reads, close: () => {} };
}

/** Where a recipe's data folders are, for messages: relative to the recipe's folder. */
export const shownRoots = (file: string, reads: readonly DataRead[]): string =>
  [...new Set(reads.map((r) => displayPath(path.dirname(file), r.root)))].join(', ');
