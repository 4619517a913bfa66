import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, format } from '../../src/compiler/index.js';

// Data paths as people type them: `on strawberries`, `on data/train` (no ./), and a misspelled
// folder gets the nearest existing one.

const STRAWBERRIES = path.resolve(__dirname, '../fixtures/data/strawberries');

describe('paths without ./', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bare-'));
  fs.cpSync(STRAWBERRIES, path.join(dir, 'strawberries'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'data'));
  fs.cpSync(STRAWBERRIES, path.join(dir, 'data', 'train'), { recursive: true });
  const file = path.join(dir, 'r.tlr');

  it.each([
    ['strawberries', 'strawberries'],
    ['data/train', 'data/train'],
  ])('`on %s` reads the folder beside the recipe, and fmt writes it with ./', (written, folder) => {
    const text = `from resnet18\ntrain 3 epochs on ${written}\n`;
    const r = compile(text, { file });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.plan!.data.root).toBe(path.join(dir, folder));
    const f = format(text);
    expect(f.ok && f.text).toBe(`from resnet18\n\ntrain 3 epochs on ./${folder}\n`);
  });

  it('a misspelled folder gets the nearest existing one', () => {
    const r = compile('from resnet18\ntrain 3 epochs on ./strawbery\n', { file });
    expect(r.diagnostics.find((d) => d.code === 'TLR1301')!.hints[0]).toBe('did you mean `./strawberries`?');
  });

  it('names that are keywords or models still parse as statements: `on strawberries batch 8`', () => {
    const r = compile('from resnet18\ntrain 3 epochs on strawberries batch 8\n', { file });
    expect(r.plan!.stages[0]!.batch).toBe(8);
  });
});
