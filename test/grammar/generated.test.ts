import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagramsHtml, tmLanguage } from '../../scripts/grammar-docs.js';

const dir = path.resolve(__dirname, '../../grammar');

describe('grammar documentation', () => {
  it('grammar/diagrams.html is up to date (run `npm run grammar`)', () => {
    expect(fs.readFileSync(path.join(dir, 'diagrams.html'), 'utf8')).toBe(diagramsHtml());
  });

  it('grammar/tlr.tmLanguage.json is up to date (run `npm run grammar`)', () => {
    expect(fs.readFileSync(path.join(dir, 'tlr.tmLanguage.json'), 'utf8')).toBe(tmLanguage());
  });

  it('the TextMate grammar highlights every keyword of the lexer and its regexes compile', () => {
    const g = JSON.parse(tmLanguage());
    const kw = new RegExp(g.repository.keyword.match);
    for (const w of ['from', 'freeze', 'until', 'epochs', 'epoch', 'then', 'unfreeze', 'augment', 'save', 'validate'])
      expect(kw.test(w), w).toBe(true);
    expect(kw.test('trainable')).toBe(false);
    for (const r of Object.values(g.repository) as { match?: string }[])
      if (r.match) expect(() => new RegExp(r.match!)).not.toThrow();
  });
});
