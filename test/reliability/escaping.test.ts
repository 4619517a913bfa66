import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import {
  CSV_SAFE,
  fileSafeName,
  ghData,
  ghProperty,
  htmlText,
  markdownCode,
  markdownText,
  printable,
  shellWord,
} from '../../src/escape.js';
import { tlr, tlrAsync } from '../helpers/cli.js';
import { HOSTILE, HOSTILE_FILE_NAMES, RAW_CONTROL } from '../helpers/hostile.js';
import { makeWorld } from '../helpers/run-fixture.js';

// One escaping policy per output kind (src/escape.ts), each tried with the same hostile corpus
// (test/fixtures/hostile/names.json), then through the commands that write that kind: explain and diff --md
// (Markdown), check --format github (workflow commands), compare.csv (CSV), the terminal.

/** HTML that a Markdown renderer would pass through, or an image/link it would load. */
const LIVE_MARKDOWN = /<[a-z/!]|!\[[^\]]*\]\(/i;
const FORMULA = /^[=+\-@\t\r]/;

describe('each output kind, on every hostile name', () => {
  it('terminal, Markdown, HTML, workflow commands, file names', () => {
    for (const n of HOSTILE) {
      expect(printable(n)).not.toMatch(RAW_CONTROL);
      expect(markdownText(n), n).not.toMatch(LIVE_MARKDOWN);
      // A code span shows HTML as text: what matters is that nothing leaves it.
      const code = markdownCode(n);
      const fence = /^`+/.exec(code)![0];
      expect(code.endsWith(fence) && !code.slice(fence.length, -fence.length).includes(fence)).toBe(true);
      for (const md of [markdownText(n), code]) {
        expect(md).not.toMatch(/[\n\r]/);
        expect(md).not.toMatch(RAW_CONTROL);
      }
      expect(markdownText(n)).not.toMatch(/(^|[^\\])[|[\]]/);
      expect(htmlText(n)).not.toMatch(/[<>"']/);
      expect(ghProperty(n)).not.toMatch(/[\n\r:,]|[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(ghData(n)).not.toMatch(/[\n\r]|[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(fileSafeName(n)).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
    }
  });

  it('shell: one word that bash reads back as it was', () => {
    for (const n of HOSTILE)
      expect(execFileSync('bash', ['-c', `printf %s ${shellWord(n)}`], { encoding: 'utf8' })).toBe(n);
  });

  it('CSV: no cell a spreadsheet runs as a formula; numbers stay numbers', () => {
    const csv = stringify([...HOSTILE.map((n) => [n, 1.5]), ['-0.5', -2]], CSV_SAFE);
    const rows = parseCsv(csv) as string[][];
    for (const [cell] of rows.slice(0, HOSTILE.length)) expect(cell).not.toMatch(FORMULA);
    expect(rows.at(-1)).toEqual(['-0.5', '-2']);
  });
});

describe('through the commands', () => {
  it('explain, diff --md and check --format github on a recipe and classes with hostile names', () => {
    const w = makeWorld({ perClass: 4, classes: ['bag', 'trouser'] });
    const data = path.join(w.dir, 'data');
    for (const n of HOSTILE_FILE_NAMES) fs.cpSync(path.join(data, 'bag'), path.join(data, n), { recursive: true });
    const names = HOSTILE.filter((n) => !/["\\\n\r]/.test(n) && n.trim());
    for (const n of names.slice(0, 12)) {
      const file = path.join(w.dir, 'r.tlr');
      fs.writeFileSync(
        file,
        `recipe "${n}"\nfrom resnet18 weights none input 32\ntrain 1 epoch on ./data\nsplit 50/50\n`,
      );
      const e = tlr('explain', file);
      expect(e.code, e.err).toBe(0);
      expect(e.out, n).not.toMatch(RAW_CONTROL);
      expect(e.out.replace(/```mermaid[\s\S]*?```/g, '')).not.toMatch(LIVE_MARKDOWN);
      const other = path.join(w.dir, 'o.tlr');
      fs.writeFileSync(
        other,
        `recipe "${n}"\nfrom resnet18 weights none input 64\ntrain 1 epoch on ./data\nsplit 50/50\n`,
      );
      const d = tlr('diff', file, other, '--md');
      expect(d.out, n).not.toMatch(RAW_CONTROL);
      // The comment's own tags (its marker, the folded details) are tlr's; nothing of the recipe's becomes one.
      expect(d.out.replace(/<!-- tlr-diff -->|<\/?(details|summary|code)>/g, '')).not.toMatch(LIVE_MARKDOWN);
    }
    const odd = path.join(w.dir, 'esc\u001b[2J\u0007x.tlr');
    fs.writeFileSync(odd, 'from resnet18 freeze until nowhere\ntrain 1 epoch on ./data\n');
    const g = tlr('check', '--format', 'github', odd);
    expect(g.out).toMatch(/^::error file=/);
    expect(g.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it('compare.csv of a run named like a formula: no live formula; compare.md: no live HTML', async () => {
    const w = makeWorld({ perClass: 4 });
    const file = path.join(w.dir, 'r.tlr');
    fs.writeFileSync(
      file,
      `recipe "=cmd|' /C calc'!A0 <img src=x>"\nfrom mobilenet_v1 width 0.25 input 32 weights ${w.weights}\n` +
        'head dense(3)\ntrain 1 epoch on ./data\n  batch 8\nsplit 50/25/25\n',
    );
    process.env['TLR_CACHE'] = path.join(w.dir, 'cache');
    try {
      expect((await tlrAsync('run', file)).code).toBe(0);
      const dirs = (d: string) => fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory());
      const runs = path.join(w.dir, 'runs');
      const named = path.join(runs, dirs(runs)[0]!.name);
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-cmp-'));
      const c = await tlrAsync('compare', path.join(named, dirs(named)[0]!.name), '--out', out);
      expect(c.code, c.err).toBe(0);
      const rows = parseCsv(fs.readFileSync(path.join(out, 'compare.csv'), 'utf8')) as string[][];
      for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+@\t\r]/);
      expect(fs.readFileSync(path.join(out, 'compare.md'), 'utf8')).not.toMatch(LIVE_MARKDOWN);
    } finally {
      delete process.env['TLR_CACHE'];
    }
  }, 120_000);
});
