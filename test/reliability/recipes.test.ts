import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tlr } from '../helpers/cli.js';
import { printable } from '../../src/printable.js';
import { compile } from '../../src/compiler/index.js';

// Hostile recipes: what they hold reaches the terminal escaped; numbers the checker derives are
// checked like written ones; nothing ends in "internal error".

const FLOWERS = path.resolve(__dirname, '../fixtures/data/flowers');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-hostile-recipe-'));

describe('terminal escapes and bidi overrides from a recipe are shown escaped', () => {
  it('printable escapes controls and bidi marks, and keeps text', () => {
    expect(printable('a\x1b[2Jb\u202ec\td é')).toBe('a\\x1b[2Jb\\u202ec\td é');
  });

  it('in check code frames (comments, strings) and in plan output (the recipe name)', () => {
    const dir = tmp();
    fs.writeFileSync(
      path.join(dir, 'r.tlr'),
      `recipe "evil\x1b]0;pwned\x07\u202e"\nfrom resnet18 # \x1b[2J wipe\nfreeze until blockX\ntrain 1 ` +
        `epoch on ${FLOWERS}\n`,
    );
    const c = tlr('check', path.join(dir, 'r.tlr'));
    expect(c.out).not.toMatch(/[\x1b\x07\u202e]/);
    const bad = path.join(dir, 'bad.tlr');
    fs.writeFileSync(bad, `from resnet18 freeze until "\x1b[31mred\u202e"\ntrain 1 epoch on ${FLOWERS}\n`);
    const b = tlr('check', bad);
    expect(b.code).toBe(1);
    expect(b.out).not.toMatch(/[\x1b\u202e]/);
    expect(b.out).toContain('\\x1b[31mred\\u202e');
    fs.writeFileSync(
      path.join(dir, 'ok.tlr'),
      `recipe "evil\x1b]0;pwned\x07\u202e"\nfrom resnet18\ntrain 1 epoch on ${FLOWERS}\n`,
    );
    const p = tlr('plan', path.join(dir, 'ok.tlr'));
    expect(p.code).toBe(0);
    expect(p.out).not.toMatch(/[\x1b\x07\u202e]/);
    expect(p.out).toContain('evil\\x1b]0;pwned\\x07\\u202e');
  });
});

describe("a recipe's name never leads its runs out of runs/", () => {
  it('.., ., ../x and a leading dash name a folder inside runs/', () => {
    const dir = tmp();
    for (const name of ['..', '.', '../x', '-rf', '..hidden']) {
      const c = compile(`recipe "${name}"\nfrom resnet18\ntrain 1 epoch on ${FLOWERS}\n`, {
        file: path.join(dir, 'r.tlr'),
      });
      const runs = c.plan!.output.runsDir;
      expect(path.dirname(runs), name).toBe(path.join(dir, 'runs'));
      expect(path.basename(runs)).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
    }
  });
});

describe('numbers the checker derives', () => {
  it(
    'hundreds of `then` stages: the inherited learning rate that underflows is an error on its `then`, ' +
      'not an invalid plan',
    () => {
      const text = `from resnet18\ntrain 1 epoch on ${FLOWERS}\n${'then train 1 epoch\n'.repeat(400)}`;
      const r = compile(text, { file: path.join(tmp(), 'r.tlr') });
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      expect(errors[0]).toMatchObject({ code: 'TLR1501', span: { start: { line: 12 } } });
      expect(errors[0]!.message).toMatch(/stage 11's learning rate would be 3\.0e-13/);
      expect(r.plan).toBeNull();
    },
  );
});
