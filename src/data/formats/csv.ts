import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { fail, type DataFormatDef, type Entry } from './types.js';
import { TlrError } from '../../errors.js';

// A .csv file (RFC 4180: quoted fields, embedded commas and newlines) whose header names a `path`
// column and a `label` column, in any order, among any others; paths are relative to the CSV. A
// multi-label CSV names a `labels` column instead (labels separated by `;`), or has one column of 0
// and 1 per label beside `path`.

/** A data CSV that cannot be read: names the file and the line. */
export class CsvError extends TlrError {}

interface Row {
  readonly path: string;
  readonly label: string;
  readonly line: number;
}

/** A row of a multi-label CSV: its labels (none is an image with no label). */
interface MultiRow {
  readonly path: string;
  readonly labels: readonly string[];
  readonly line: number;
}

/** How a data CSV labels its images: one label per row, or several. */
export type CsvData =
  | { readonly kind: 'single'; readonly rows: readonly Row[] }
  | { readonly kind: 'multi'; readonly names: readonly string[]; readonly rows: readonly MultiRow[] };

/** What separates the labels of a row in a `labels` column. */
export const LABEL_SEPARATOR = ';';

type Records = { record: string[]; info: { lines: number } }[];

function records(file: string): Records {
  try {
    return parse(fs.readFileSync(file, 'utf8'), {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    }) as unknown as Records;
  } catch (e) {
    const m = e as Error & { lines?: number };
    throw new CsvError(`${file}${m.lines ? `:${m.lines}` : ''}: ${m.message.replace(/^Invalid [^:]*: /, '')}`);
  }
}

/**
 * A data CSV's rows. Its header names a `path` column and either a `label` column (one label per image), a `labels`
 * column (several, separated by `;`), or one column per label holding 0 or 1. A malformed file or row is a CsvError
 * naming the file and line.
 */
export function readCsvData(file: string): CsvData {
  const recs = records(file);
  const header = recs[0]?.record.map((h) => h.toLowerCase());
  const at = { path: header?.indexOf('path') ?? -1, label: header?.indexOf('label') ?? -1 };
  const many = header?.indexOf('labels') ?? -1;
  if (at.path >= 0 && at.label < 0 && many >= 0) return multiFromList(file, recs, at.path, many);
  if (at.path >= 0 && at.label < 0 && header!.length > 1) {
    const columns = recs[0]!.record.map((name, i) => ({ name, i })).filter((c) => c.i !== at.path);
    if (recs.slice(1).every(({ record }) => columns.every((c) => /^[01]$/.test(record[c.i] ?? ''))))
      return multiFromColumns(file, recs, at.path, columns);
  }
  if (at.path < 0 || at.label < 0) {
    throw new CsvError(
      `${file}:1: the header must name a "path" column and a "label" column (one label per image), a "labels" ` +
        `column (several, separated by "${LABEL_SEPARATOR}"), or one column of 0 and 1 per label (found ` +
        `${header ? `"${recs[0]!.record.join(',')}"` : 'an empty file'})`,
    );
  }
  const rows = recs.slice(1).map(({ record, info }) => {
    const p = record[at.path],
      label = record[at.label];
    if (!p || !label)
      throw new CsvError(`${file}:${info.lines}: a row needs a path and a label, found "${record.join(',')}"`);
    return { path: p, label, line: info.lines };
  });
  return { kind: 'single', rows };
}

/** The single-label rows of a data CSV (a multi-label one is a CsvError). */
export function readCsvRows(file: string): Row[] {
  const d = readCsvData(file);
  if (d.kind === 'multi') throw new CsvError(`${file}: a multi-label CSV, where one label per image was expected`);
  return [...d.rows];
}

function multiFromList(file: string, recs: Records, pathAt: number, at: number): CsvData {
  const rows = recs.slice(1).map(({ record, info }) => {
    const p = record[pathAt];
    if (!p) throw new CsvError(`${file}:${info.lines}: a row needs a path, found "${record.join(',')}"`);
    const labels = [
      ...new Set(
        (record[at] ?? '')
          .split(LABEL_SEPARATOR)
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ];
    return { path: p, labels, line: info.lines };
  });
  return { kind: 'multi', names: [...new Set(rows.flatMap((r) => r.labels))].sort(), rows };
}

function multiFromColumns(
  file: string,
  recs: Records,
  pathAt: number,
  columns: readonly { name: string; i: number }[],
): CsvData {
  const rows = recs.slice(1).map(({ record, info }) => {
    const p = record[pathAt];
    if (!p) throw new CsvError(`${file}:${info.lines}: a row needs a path, found "${record.join(',')}"`);
    return { path: p, labels: columns.filter((c) => record[c.i] === '1').map((c) => c.name), line: info.lines };
  });
  return { kind: 'multi', names: columns.map((c) => c.name).sort(), rows };
}

/** Images per label, and each image's labels as indices into `names`. */
function multiInfo(d: Extract<CsvData, { kind: 'multi' }>, file: string) {
  const index = new Map(d.names.map((n, i) => [n, i]));
  const sets = d.rows.map((r) => r.labels.map((l) => index.get(l)!).sort((a, b) => a - b));
  const counts = d.names.map(() => 0);
  for (const s of sets) for (const l of s) counts[l]! += 1;
  const train = d.names.map((name, i) => ({ name, where: `label ${name} in ${file}`, images: counts[i]! }));
  return { train, sets };
}

export const csv: DataFormatDef<'csv'> = {
  name: 'csv',
  description: 'a .csv file with path and label columns (or labels, or a 0/1 column per label)',
  probe: (file, isFile) => {
    if (!isFile || !file.toLowerCase().endsWith('.csv')) return null;
    let data: CsvData;
    try {
      data = readCsvData(file);
    } catch (e) {
      if (e instanceof CsvError) return fail('unreadable', e.message);
      throw e;
    }
    if (data.kind === 'multi') {
      const { train, sets } = multiInfo(data, file);
      return { ok: true, info: { path: file, format: 'csv', splits: { train }, labelSets: sets } };
    }
    const counts = new Map<string, number>();
    for (const r of data.rows) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
    const train = [...counts.keys()]
      .sort()
      .map((name) => ({ name, where: `label ${name} in ${file}`, images: counts.get(name)! }));
    return { ok: true, info: { path: file, format: 'csv', splits: { train } } };
  },
  list: (file, _part, classes) => {
    const label = new Map(classes.map((c, i) => [c, i]));
    const base = path.dirname(file);
    const data = readCsvData(file);
    if (data.kind === 'multi')
      return data.rows.map((r): Entry => {
        const labels = r.labels.flatMap((l) => (label.has(l) ? [label.get(l)!] : [])).sort((a, b) => a - b);
        return { kind: 'file', path: path.resolve(base, r.path), label: labels[0] ?? -1, labels };
      });
    return data.rows.flatMap((r): Entry[] => {
      const y = label.get(r.label);
      return y === undefined ? [] : [{ kind: 'file', path: path.resolve(base, r.path), label: y }];
    });
  },
};
