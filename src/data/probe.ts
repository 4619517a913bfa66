import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { isImageFile, SPLIT_FOLDERS, IDX_FILES, type SplitName } from './formats.js';

// Looks at a data set without decoding it: its layout, classes and image counts. The checker calls
// it through CheckOptions, so tests can give it a fake.

export type DataFormat = 'folders' | 'split-folders' | 'idx' | 'csv';

export interface ClassFolder {
  readonly name: string;
  /** Where the class's images are, for messages (a folder, or the labels file). */
  readonly where: string;
  readonly images: number;
}

export interface DataInfo {
  readonly path: string;
  readonly format: DataFormat;
  /** Per split found in the data itself; a plain folder or CSV has only `train`. */
  readonly splits: Partial<Record<SplitName, readonly ClassFolder[]>>;
}

export type ProbeResult =
  | { readonly ok: true; readonly info: DataInfo }
  | { readonly ok: false; readonly problem: 'missing' | 'unreadable' | 'empty'; readonly message: string; readonly hints: readonly string[] };

export type Probe = (absPath: string) => ProbeResult;

const fail = (problem: 'missing' | 'unreadable' | 'empty', message: string, ...hints: string[]): ProbeResult => ({ ok: false, problem, message, hints });

function countImages(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) n += countImages(path.join(dir, e.name));
    else if (isImageFile(e.name)) n += 1;
  }
  return n;
}

const subdirs = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();

function classFolders(dir: string): ClassFolder[] {
  return subdirs(dir).map((name) => ({ name, where: path.join(dir, name), images: countImages(path.join(dir, name)) }));
}

function findIdx(dir: string, base: string): string | null {
  for (const f of [base, `${base}.gz`]) if (fs.existsSync(path.join(dir, f))) return path.join(dir, f);
  return null;
}

/** The first bytes of a file, gunzipped when it is .gz (partial input is fine). */
function head(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(file.endsWith('.gz') ? 64 * 1024 : bytes);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const raw = buf.subarray(0, n);
    return file.endsWith('.gz') ? zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, bytes) : raw;
  } finally {
    fs.closeSync(fd);
  }
}

export function readIdxLabels(file: string): Uint8Array {
  const raw = fs.readFileSync(file);
  const buf = file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
  if (buf.length < 8 || buf.readUInt32BE(0) !== 0x801) throw new Error(`${file} is not an IDX label file (bad magic number)`);
  const n = buf.readUInt32BE(4);
  if (buf.length < 8 + n) throw new Error(`${file} is truncated: it says ${n} labels but holds ${buf.length - 8}`);
  return buf.subarray(8, 8 + n);
}

export function readClassNames(dir: string): string[] | null {
  const f = path.join(dir, 'classes.txt');
  if (!fs.existsSync(f)) return null;
  return fs.readFileSync(f, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}

function probeIdx(dir: string): ProbeResult | null {
  const trainLabels = findIdx(dir, IDX_FILES.train.labels);
  if (!trainLabels) return null;
  const names = readClassNames(dir);
  const splits: Partial<Record<SplitName, ClassFolder[]>> = {};
  for (const split of ['train', 'test'] as const) {
    const labels = findIdx(dir, IDX_FILES[split].labels), images = findIdx(dir, IDX_FILES[split].images);
    if (!labels) continue;
    if (!images) return fail('unreadable', `${labels} has no images file beside it (${IDX_FILES[split].images}[.gz])`);
    let ys: Uint8Array;
    try {
      ys = readIdxLabels(labels);
      const h = head(images, 16);
      if (h.length < 16 || h.readUInt32BE(0) !== 0x803) throw new Error(`${images} is not an IDX image file (bad magic number)`);
      if (h.readUInt32BE(4) !== ys.length) throw new Error(`${images} holds ${h.readUInt32BE(4)} images but ${labels} has ${ys.length} labels`);
    } catch (e) {
      return fail('unreadable', (e as Error).message);
    }
    const counts = new Map<number, number>();
    for (const y of ys) counts.set(y, (counts.get(y) ?? 0) + 1);
    const max = Math.max(...counts.keys());
    if (names && names.length <= max) return fail('unreadable', `${path.join(dir, 'classes.txt')} names ${names.length} classes but the labels go up to ${max}`);
    const n = names ? names.length : max + 1;
    splits[split] = Array.from({ length: n }, (_, i) => ({ name: names?.[i] ?? String(i), where: `label ${i} in ${labels}`, images: counts.get(i) ?? 0 }));
  }
  return { ok: true, info: { path: dir, format: 'idx', splits } };
}

function probeCsv(file: string): ProbeResult {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim());
  const header = lines[0]?.split(',').map((s) => s.trim().toLowerCase());
  if (!header || header[0] !== 'path' || header[1] !== 'label') return fail('unreadable', `${file} must start with the header line "path,label"`);
  const counts = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.split(',');
    if (cols.length < 2 || !cols[0]!.trim() || !cols[1]!.trim()) return fail('unreadable', `${file}:${i + 1}: expected "path,label", found "${lines[i]}"`);
    const label = cols[1]!.trim();
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const train = [...counts.keys()].sort().map((name) => ({ name, where: `label ${name} in ${file}`, images: counts.get(name)! }));
  return { ok: true, info: { path: file, format: 'csv', splits: { train } } };
}

export const probeData: Probe = (p) => {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    return fail('missing', `${p} does not exist`);
  }
  try {
    if (stat.isFile()) {
      if (p.toLowerCase().endsWith('.csv')) return probeCsv(p);
      return fail('unreadable', `${p} is a file; data must be a folder of class folders, a folder of IDX files or a .csv file`);
    }
    const idx = probeIdx(p);
    if (idx) return idx;
    const dirs = subdirs(p);
    const pick = (names: readonly string[]) => names.find((n) => dirs.includes(n));
    const found = Object.fromEntries(
      (Object.keys(SPLIT_FOLDERS) as SplitName[]).map((s) => [s, pick(SPLIT_FOLDERS[s])]).filter(([, d]) => d),
    ) as Partial<Record<SplitName, string>>;
    if (found.train) {
      const splits: Partial<Record<SplitName, ClassFolder[]>> = {};
      for (const [s, d] of Object.entries(found)) splits[s as SplitName] = classFolders(path.join(p, d!));
      return { ok: true, info: { path: p, format: 'split-folders', splits } };
    }
    if (!dirs.length) return fail('empty', `${p} has no class folders`, 'put one folder per class in it, each holding that class\'s images (jpg, png, webp, gif, bmp, tiff)');
    return { ok: true, info: { path: p, format: 'folders', splits: { train: classFolders(p) } } };
  } catch (e) {
    return fail('unreadable', `${p} cannot be read: ${(e as Error).message}`);
  }
};
