import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeWithTsx, ROOT } from '../helpers/cli.js';
import { SEMANTIC_TYPES } from '../../src/lsp/semantic.js';

// A real editor nobody here wrote drives the language server: Debian's Neovim, headless, with the client docs/editors.md
// sets up for Neovim 0.7-0.10 (its init.lua, taken from the page as a user copies it). It skips, saying so, where nvim
// is not installed (.ci/run installs Debian's neovim).

const nvim = cp.spawnSync('sh', ['-c', 'command -v nvim']).stdout?.toString().trim();

describe.skipIf(!nvim)(
  'Neovim set up as docs/editors.md says drives tlr lsp (skips without nvim: apt-get install -y neovim)',
  () => {
    it('shows the diagnostics, hovers a narrow network, completes blocks after `then unfreeze from`, colours tokens', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-nvim-'));
      const recipe = path.join(dir, 'r.tlr');
      fs.writeFileSync(
        recipe,
        'from mobilenet_v1\n  width 0.25\nhead dense(3)\nthen unfreeze from \ntrain 2 epochs on ./nowhere\n',
      );
      const out = path.join(dir, 'out.json');
      // The docs' init.lua, as a user copies it, and a `tlr` on the PATH (this checkout's CLI).
      const docs = fs.readFileSync(path.join(ROOT, 'docs/editors.md'), 'utf8');
      const init = /\*\*Neovim 0\.7 to 0\.10\*\*[\s\S]*?```lua\n([\s\S]*?)```/.exec(docs)![1]!;
      fs.writeFileSync(path.join(dir, 'init.lua'), init);
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      const argv = [process.execPath, ...nodeWithTsx(path.join(ROOT, 'src/cli/bin.ts'))].map((x) => `'${x}'`).join(' ');
      fs.writeFileSync(path.join(bin, 'tlr'), `#!/bin/sh\nexec ${argv} "$@"\n`, { mode: 0o755 });
      const probe = `luafile ${path.join(__dirname, 'neovim/probe.lua')}`;
      const r = cp.spawnSync(nvim!, ['--headless', '-u', path.join(dir, 'init.lua'), '-c', probe], {
        env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, TLR_RECIPE: recipe, TLR_OUT: out },
        timeout: 90_000,
        encoding: 'utf8',
      });
      expect(fs.existsSync(out), `${r.stdout}${r.stderr}`).toBe(true);
      const got = JSON.parse(fs.readFileSync(out, 'utf8'));
      expect(got.filetype).toBe('tlr');
      expect(got.diagnostics.map((d: { code: string; line: number }) => [d.code, d.line])).toEqual([['TLR0101', 4]]);
      expect(got.hover.contents.value).toMatch(/^\*\*mobilenet_v1 width 0\.25\*\*: .*features 256/s);
      const items = Array.isArray(got.completion) ? got.completion : got.completion.items;
      expect(items.map((i: { label: string }) => i.label)).toContain('block12');
      // The first token, `from`, is a keyword: line 0, column 0, 4 long.
      expect(got.tokens.data.slice(0, 4)).toEqual([0, 0, 4, SEMANTIC_TYPES.indexOf('keyword')]);
      fs.rmSync(dir, { recursive: true });
    }, 120_000);
  },
);
