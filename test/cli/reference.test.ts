import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceFiles } from '../../scripts/reference-docs.js';
import { exampleOutput } from '../../scripts/diagnostics-docs.js';
import { CODES, type Code } from '../../src/compiler/codes.js';
import { EXAMPLES } from '../../src/compiler/code-examples.js';
import { COMMANDS, commandHelp, optionsOf } from '../../src/cli/table/index.js';
import { engineFlags } from '../../src/engines/index.js';
import { tlr } from '../helpers/cli.js';

// One row per command (src/cli/table/): help, docs/commands.md and the completions are made from it; the
// diagnostics reference from the code table and its examples. Each generated file is current, and works.

const ROOT = path.resolve(__dirname, '../..');
const has = (cmd: string) => cp.spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('the command table and what is made from it', () => {
  it('docs/commands.md, docs/diagnostics.md and completions/ are current (run `npm run docs`)', () => {
    for (const [file, text] of Object.entries(referenceFiles()))
      expect(fs.readFileSync(path.join(ROOT, file), 'utf8'), file).toBe(text);
  }, 60_000);

  it('tlr COMMAND --help prints its row, with every engine flag and the help the engine table gives it', () => {
    const run = COMMANDS.find((c) => c.name === 'run')!;
    const r = tlr('run', '--help');
    expect(r.out.trim()).toBe(commandHelp(run).trim());
    const flat = r.out.replace(/\s+/g, ' ');
    for (const [name, f] of engineFlags()) {
      expect(flat).toContain(`--${name}`);
      expect(flat).toContain(f.flag.help.replace(/\s+/g, ' '));
    }
    expect(tlr('--help').out).toContain(COMMANDS.map((c) => c.name).at(-1)!);
  });

  it('every option of every row is one the command line accepts', () => {
    for (const c of COMMANDS)
      for (const [name, o] of Object.entries(optionsOf(c))) {
        if (name === 'help' || o.type !== 'boolean') continue;
        // A flag the parser does not know is a usage error (exit 2) whatever the command does with it.
        const r = tlr(c.name, `--${name}`, '--not-an-option');
        expect(r.err, `${c.name} --${name}`).toMatch(/Unknown option '--not-an-option'/);
      }
  });

  it('every diagnostic code has an example that gets it (or says why none can)', () => {
    for (const code of Object.keys(CODES) as Code[]) {
      if (EXAMPLES[code].retired) continue;
      expect(exampleOutput(code).text, code).toContain(code);
    }
  });
});

describe('shell completions', () => {
  const script = (shell: string) =>
    path.join(ROOT, { bash: 'completions/tlr.bash', zsh: 'completions/_tlr', fish: 'completions/tlr.fish' }[shell]!);

  it("bash: commands, options, an option's values and recipes", () => {
    const complete = (words: string[], cwd = ROOT) =>
      cp
        .execFileSync(
          'bash',
          [
            '-c',
            `source '${script('bash')}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tlr; printf '%s\\n' "\${COMPREPLY[@]}"`,
          ],
          { cwd, encoding: 'utf8' },
        )
        .trim()
        .split('\n');
    expect(complete(['tlr', 'ex'])).toEqual(['explain', 'export']);
    expect(complete(['tlr', 'check', '--format', ''])).toEqual(['text', 'json', 'github', 'sarif']);
    expect(complete(['tlr', 'run', '--dev'])).toEqual(['--device']);
    expect(complete(['tlr', 'check', 'q'], path.join(ROOT, 'recipes/quickstart'))).toEqual(['quickstart.tlr']);
    expect(complete(['tlr', 'models', 'mobilenet_v'])).toEqual(['mobilenet_v1', 'mobilenet_v2']);
  });

  it.skipIf(!has('fish'))('fish: the same, as fish completes them (skipped where fish is not installed)', () => {
    const complete = (line: string) =>
      cp
        .execFileSync('fish', ['--no-config', '-c', `source '${script('fish')}'; complete -C '${line}'`], {
          encoding: 'utf8',
        })
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0]);
    expect(complete('tlr ex')).toEqual(['explain', 'export']);
    expect(complete('tlr check --format ')).toEqual(['github', 'json', 'sarif', 'text']);
    expect(complete('tlr run --dev')).toEqual(['--device']);
  });

  it.skipIf(!has('zsh'))('zsh: each command hands _arguments its options (skipped where zsh is not installed)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-zsh-'));
    // _describe and _arguments stubbed: what the script hands them is what zsh would complete from.
    const probe = `_describe() { print -l -- "\${(@P)2}" }; _arguments() { print -l -- "$@" }
source '${script('zsh')}' 2>/dev/null
words=(tlr ''); CURRENT=2; _tlr; print -- ---; words=(tlr check --format ''); CURRENT=4; _tlr`;
    fs.writeFileSync(path.join(dir, 'probe.zsh'), probe);
    const out = cp.execFileSync('zsh', ['-f', path.join(dir, 'probe.zsh')], { encoding: 'utf8' });
    const [commands, check] = out.split('---\n');
    expect(
      commands!
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
    ).toEqual(COMMANDS.map((c) => c.name));
    expect(check).toContain('--format[text for a terminal]:FORMAT:(text json github sarif)');
    expect(check).toContain('*:recipe:_files -g "*.tlr(-.)"');
    fs.rmSync(dir, { recursive: true });
  });
});
