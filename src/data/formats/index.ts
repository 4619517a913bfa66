import * as fs from 'node:fs';
import { csv } from './csv.js';
import { idx } from './idx.js';
import { splitFolders } from './split-folders.js';
import { folders } from './folders.js';
import { shards } from './shards.js';
import { fail, type DataFormat, type DataFormatDef, type Entry, type ProbeResult } from './types.js';
import type { SplitName } from '../layout.js';

// The registry of data formats, in the order they are tried: the first whose probe recognises a
// data set describes it. To add a format: a file in this folder, a line here, and its name in
// schema/plan.schema.json's `dataFormat` (a test checks both agree).

export const FORMATS = [csv, idx, shards, splitFolders, folders] as const;

/** The names of every format; the plan's `data.format` (types.ts names them; this checks they agree). */
export type { DataFormat };
type Names = (typeof FORMATS)[number]['name'];
export const FORMAT_NAMES_AGREE: [Names] extends [DataFormat] ? ([DataFormat] extends [Names] ? true : never) : never =
  true;

export type Probe = (absPath: string) => ProbeResult;

/** Looks at a data set without decoding it: its format, classes and image counts. */
export const probeData: Probe = (p) => {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    return fail('missing', `${p} does not exist`);
  }
  try {
    for (const f of FORMATS) {
      const r = f.probe(p, stat.isFile());
      if (r) return r;
    }
    return fail('unreadable', `${p} is a file; data must be ${FORMATS.map((f) => f.description).join(', or ')}`);
  } catch (e) {
    return fail('unreadable', `${p} cannot be read: ${(e as Error).message}`);
  }
};

/** The format named `name`. */
export function formatOf(name: DataFormat): DataFormatDef {
  const f = FORMATS.find((x) => x.name === name);
  if (!f) throw new Error(`unknown data format ${name}`);
  return f;
}

/** The images of one part of a data set, labelled by index into `classes`. */
export function listEntries(
  src: { readonly path: string; readonly format: DataFormat; readonly part: SplitName },
  classes: readonly string[],
): Entry[] {
  return formatOf(src.format).list(src.path, src.part, classes);
}

export type { ClassFolder, DataInfo, DataFormatDef, Entry, ProbeResult } from './types.js';
export { DataError } from './types.js';
export { readIdxImages, readIdxLabels, readClassNames, IDX_FILES, type IdxImages } from './idx.js';
export { SPLIT_FOLDERS } from './split-folders.js';
export { readMember, readShardIndex, SHARDS_INDEX, type ShardIndex, type ShardMember } from './shards.js';
export { readCsvRows, CsvError } from './csv.js';
