import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tlr, tlrProcess } from '../helpers/cli.js';

// Files a pull request can put where tlr reads recipes: a link to the checkout's .git/config (its token), a
// secret under a .tlr name, a binary, a link loop, a named pipe, a byte-order mark. No secret reaches the output,
// every file gets its own result, machine output stays whole, and nothing blocks or ends in "internal error".

const FLOWERS = path.resolve(__dirname, '../fixtures/data/flowers');
const TOKEN = 'ghp_SECRETtoken1234567890';
const FORMATS = ['text', 'json', 'github', 'sarif'] as const;

/** A checkout: a good recipe, .git/config with a token, and hostile files beside the recipe. */
function checkout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-hostile-files-'));
  fs.mkdirSync(path.join(dir, '.git'));
  fs.writeFileSync(
    path.join(dir, '.git', 'config'),
    `[core]\n\trepositoryformatversion = 0\n[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${TOKEN}\n`,
  );
  fs.writeFileSync(path.join(dir, 'a.tlr'), `from resnet18\ntrain 1 epoch on ${FLOWERS}\n`);
  fs.symlinkSync('.git/config', path.join(dir, 'leak.tlr'));
  fs.writeFileSync(path.join(dir, 'env.tlr'), `# settings\nTOKEN=${TOKEN}\n`);
  fs.writeFileSync(path.join(dir, 'z.tlr'), `from resnet18\ntrain 1 epoch on ${FLOWERS}\n`);
  return dir;
}

/** Each machine format parsed: JSON and SARIF as JSON, GitHub's as one workflow command a line. */
function parses(format: (typeof FORMATS)[number], out: string): void {
  if (format === 'json' || format === 'sarif') JSON.parse(out);
  if (format === 'github')
    for (const l of out.trim().split('\n')) expect(l).toMatch(/^::(error|warning) file=[^\n]*::/);
}

describe('a link to .git/config and a secret under a .tlr name', () => {
  it('check . and fmt --check . skip the link, and print no line of either file, in every format', () => {
    const dir = checkout();
    for (const format of FORMATS) {
      const r = tlr('check', '--format', format, dir);
      expect(r.out + r.err).not.toContain(TOKEN);
      expect(r.out + r.err).not.toContain('repositoryformatversion');
      expect(r.err).toContain('leak.tlr: a symbolic link');
      expect(r.code).toBe(1); // env.tlr is not a recipe
      parses(format, r.out);
    }
    const f = tlr('fmt', '--check', dir);
    expect(f.out + f.err).not.toContain(TOKEN);
    expect(f.out + f.err).toContain('TLR0002');
  });

  it('named on the command line, the link is not a recipe: one diagnostic that quotes nothing of it', () => {
    const dir = checkout();
    for (const format of FORMATS) {
      const r = tlr('check', '--format', format, path.join(dir, 'leak.tlr'), path.join(dir, 'env.tlr'));
      expect(r.out + r.err).not.toContain(TOKEN);
      expect(r.out + r.err).not.toMatch(/repositoryformatversion|\[core\]|settings/);
      expect(r.out).toContain('TLR0002');
      parses(format, r.out);
    }
    for (const cmd of ['plan', 'explain', 'fmt']) {
      const r = tlr(cmd, path.join(dir, 'leak.tlr'));
      expect(r.out + r.err, cmd).not.toContain(TOKEN);
      expect(r.out + r.err, cmd).not.toMatch(/repositoryformatversion|\[core\]/);
    }
  });
});

describe('every file gets its own result', () => {
  it('a binary, a link loop and a named pipe among recipes: one diagnostic each, the others checked, output whole', async () => {
    const dir = checkout();
    fs.rmSync(path.join(dir, 'leak.tlr'));
    fs.rmSync(path.join(dir, 'env.tlr'));
    fs.writeFileSync(path.join(dir, 'b.tlr'), Buffer.from([0x66, 0x72, 0x00, 0xff, 0x01]));
    fs.symlinkSync('loop.tlr', path.join(dir, 'loop.tlr'));
    execFileSync('mkfifo', [path.join(dir, 'pipe.tlr')]);
    const named = ['a.tlr', 'b.tlr', 'loop.tlr', 'pipe.tlr', 'z.tlr'].map((f) => path.join(dir, f));
    for (const format of FORMATS) {
      // A child process with a deadline: a read that blocks on the pipe fails the test instead of hanging it.
      const r = await Promise.race([
        tlrProcess(['check', '--format', format, ...named]),
        new Promise<never>((_, no) => setTimeout(() => no(new Error(`check --format ${format} blocked`)), 60_000)),
      ]);
      expect(r.code, r.err).toBe(1);
      expect(r.err).not.toContain('internal error');
      parses(format, r.out);
      if (format === 'json') {
        const files = (JSON.parse(r.out) as { file: string; code: string }[]).map(
          (d) => `${path.basename(d.file)} ${d.code}`,
        );
        expect(files).toEqual(['b.tlr TLR0002', 'loop.tlr TLR0003', 'pipe.tlr TLR0003']);
      }
      if (format === 'text') expect(r.out).toMatch(/a\.tlr: ok[\s\S]*z\.tlr: ok/);
    }
  });

  it('a byte-order mark does not shift the columns of line 1', () => {
    const dir = checkout();
    const text = `from resnet18 freeze until blockX\ntrain 1 epoch on ${FLOWERS}\n`;
    fs.writeFileSync(path.join(dir, 'bom.tlr'), `\uFEFF${text}`);
    fs.writeFileSync(path.join(dir, 'plain.tlr'), text);
    const span = (f: string) => JSON.parse(tlr('check', '--json', path.join(dir, f)).out)[0].span;
    expect(span('bom.tlr')).toEqual(span('plain.tlr'));
  });

  it('a glob through a linked folder names each recipe once', () => {
    const dir = checkout();
    fs.mkdirSync(path.join(dir, 'recipes'));
    fs.copyFileSync(path.join(dir, 'a.tlr'), path.join(dir, 'recipes', 'r.tlr'));
    fs.symlinkSync('recipes', path.join(dir, 'also'));
    const r = tlr('check', `${dir}/**/r.tlr`);
    expect(r.out.match(/r\.tlr: ok/g)).toHaveLength(1);
  });
});
