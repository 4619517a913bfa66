import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORMATS, listEntries, probeData, readCsvRows } from '../../src/data/formats/index.js';

// Each data format probes (for the checker) and lists (for the runtime) the same images; the
// registry and the plan schema name the same formats; CSV follows RFC 4180.

const FIXTURES = path.resolve(__dirname, '../fixtures/data');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-formats-'));

it('the registry and schema/plan.schema.json name the same formats', () => {
  const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../schema/plan.schema.json'), 'utf8'));
  expect([...FORMATS.map((f) => f.name)].sort()).toEqual([...schema.definitions.dataFormat.enum].sort());
});

describe.each([
  ['folders', 'strawberries'],
  ['split-folders', 'split'],
  ['idx', 'idx'],
  ['csv', 'labels.csv'],
])('%s', (format, fixture) => {
  it('is recognised, and lists as many images per class as its probe counts', () => {
    const r = probeData(path.join(FIXTURES, fixture));
    expect(r.ok && r.info.format).toBe(format);
    if (!r.ok) return;
    for (const [part, folders] of Object.entries(r.info.splits)) {
      const classes = folders!.map((f) => f.name);
      const entries = listEntries({ path: r.info.path, format: r.info.format, part: part as 'train' }, classes);
      expect(classes.map((_, i) => entries.filter((e) => e.label === i).length)).toEqual(folders!.map((f) => f.images));
    }
  });
});

describe('csv', () => {
  const write = (text: string) => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'data.csv'), text);
    return path.join(dir, 'data.csv');
  };

  it('reads quoted fields, embedded commas and quotes, a BOM, CRLF and columns in any order', () => {
    const f = write('\ufeffid,label,path\r\n1,"cat, tabby","images/a, b.png"\r\n2,dog,"say ""hi"".png"\r\n\r\n');
    expect(readCsvRows(f).map((r) => [r.path, r.label, r.line])).toEqual([
      ['images/a, b.png', 'cat, tabby', 2],
      ['say "hi".png', 'dog', 3],
    ]);
    const r = probeData(f);
    expect(r.ok && r.info.splits.train!.map((c) => [c.name, c.images])).toEqual([
      ['cat, tabby', 1],
      ['dog', 1],
    ]);
    expect(listEntries({ path: f, format: 'csv', part: 'train' }, ['cat, tabby', 'dog'])[0]).toEqual({
      kind: 'file',
      path: path.join(path.dirname(f), 'images/a, b.png'),
      label: 0,
    });
  });

  it.each([
    ['file,class\na.png,x\n', /data\.csv:1: the header must name a "path" column and a "label" column/],
    ['path,label\na.png,x\nb.png\n', /data\.csv:3: a row needs a path and a label/],
    ['path,label\na.png,x\n"b.png,y\n', /data\.csv:2?\d*: .*quote/i],
    ['', /data\.csv:1: .*empty file/],
  ])('reports a bad file with its line: %j', (text, message) => {
    const r = probeData(write(text));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});
