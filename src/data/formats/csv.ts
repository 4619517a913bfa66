import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { fail, type DataFormatDef, type Entry } from './types.js';
import { TlrError } from '../../errors.js';

// A .csv file (RFC 4180: quoted fields, embedded commas and newlines) whose header names a `path`
// column and a `label` column, in any order, among any others; paths are relative to the CSV.

/** A data CSV that cannot be read: names the file and the line. */
export class CsvError extends TlrError {}

interface Row {
  readonly path: string;
  readonly label: string;
  readonly line: number;
}

/** The rows of a data CSV; a malformed file or row is a CsvError naming the file and line. */
export function readCsvRows(file: string): Row[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(fs.readFileSync(file, 'utf8'), {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    }) as unknown as typeof records;
  } catch (e) {
    const m = e as Error & { lines?: number };
    throw new CsvError(`${file}${m.lines ? `:${m.lines}` : ''}: ${m.message.replace(/^Invalid [^:]*: /, '')}`);
  }
  const header = records[0]?.record.map((h) => h.toLowerCase());
  const at = { path: header?.indexOf('path') ?? -1, label: header?.indexOf('label') ?? -1 };
  if (at.path < 0 || at.label < 0) {
    throw new CsvError(
      `${file}:1: the header must name a "path" column and a "label" column (found ` +
        `${header ? `"${records[0]!.record.join(',')}"` : 'an empty file'})`,
    );
  }
  return records.slice(1).map(({ record, info }) => {
    const p = record[at.path],
      label = record[at.label];
    if (!p || !label)
      throw new CsvError(`${file}:${info.lines}: a row needs a path and a label, found "${record.join(',')}"`);
    return { path: p, label, line: info.lines };
  });
}

export const csv: DataFormatDef<'csv'> = {
  name: 'csv',
  description: 'a .csv file with path and label columns',
  probe: (file, isFile) => {
    if (!isFile || !file.toLowerCase().endsWith('.csv')) return null;
    let rows: Row[];
    try {
      rows = readCsvRows(file);
    } catch (e) {
      if (e instanceof CsvError) return fail('unreadable', e.message);
      throw e;
    }
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
    const train = [...counts.keys()]
      .sort()
      .map((name) => ({ name, where: `label ${name} in ${file}`, images: counts.get(name)! }));
    return { ok: true, info: { path: file, format: 'csv', splits: { train } } };
  },
  list: (file, _part, classes) => {
    const label = new Map(classes.map((c, i) => [c, i]));
    const base = path.dirname(file);
    return readCsvRows(file).flatMap((r): Entry[] => {
      const y = label.get(r.label);
      return y === undefined ? [] : [{ kind: 'file', path: path.resolve(base, r.path), label: y }];
    });
  },
};
