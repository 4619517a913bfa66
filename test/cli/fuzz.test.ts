import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tlr, tlrProcess } from '../helpers/cli.js';
import { rng } from '../helpers/random.js';
import { mutate, seeds, soup } from '../helpers/mutate.js';

// Mutated recipes through the CLI itself: exit status 0 or 1, never an internal error or a stack trace.

const FIX = path.resolve(__dirname, '../fixtures/valid');

describe('CLI fuzz', () => {
  const base = seeds();
  const r = rng(7);
  const texts = Array.from({ length: 1500 }, (_, i) => (i % 5 === 4 ? soup(r) : mutate(r, base[i % base.length]!)));

  it('check, plan and fmt --check never crash', () => {
    const dir = fs.mkdtempSync(path.join(FIX, '.fuzz-'));
    try {
      texts.forEach((t, i) => {
        const f = path.join(dir, `r${i}.tlr`);
        fs.writeFileSync(f, t);
        for (const argv of [
          ['check', f],
          ['plan', '--json', f],
          ['fmt', '--check', f],
        ]) {
          const res = tlr(...argv);
          expect([0, 1], `${argv.join(' ')} exited ${res.code}:\n${t}\n${res.err}`).toContain(res.code);
          expect(res.err).not.toContain('internal error');
        }
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('as processes, print no stack trace', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-fuzz-'));
    const files = texts.slice(0, 12).map((t, i) => {
      const f = path.join(dir, `r${i}.tlr`);
      fs.writeFileSync(f, t);
      return f;
    });
    const res = await tlrProcess(['check', ...files]);
    expect([0, 1]).toContain(res.code);
    expect(res.out + res.err).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });
});
