import { RECIPE_COMMANDS } from './recipe-commands.js';
import { RUN_COMMANDS } from './run-commands.js';
import { completionScript, SHELLS } from './completion.js';
import type { CommandRow, OptionRow } from './row.js';
import { UsageError } from '../../errors.js';

// The command table: every command of `tlr`, one row each (row.ts). main.ts parses and dispatches by it; help, the
// reference in docs/commands.md and the shell completions are rendered from it.

const COMPLETION: CommandRow = {
  name: 'completion',
  summary: 'the shell completion script for bash, zsh or fish',
  usage: ['bash|zsh|fish'],
  about: `Prints the completion script for the shell: commands, their options, the values an option takes, and
recipes (*.tlr), folders or files where a command takes them. Made from tlr's command table, like this help.
  bash:  tlr completion bash > ~/.local/share/bash-completion/completions/tlr
  zsh:   tlr completion zsh > "\${fpath[1]}/_tlr"   (then: autoload -U compinit && compinit)
  fish:  tlr completion fish > ~/.config/fish/completions/tlr.fish`,
  options: () => ({}),
  operands: 'none',
  run: (p, _v, io) => {
    const shell = p[0];
    if (p.length !== 1 || !SHELLS.includes(shell as never))
      throw new UsageError(`tlr completion takes one shell: ${SHELLS.join(', ')}`);
    io.out(completionScript(shell as (typeof SHELLS)[number], COMMANDS));
    return 0;
  },
};

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandRow[] = [...RECIPE_COMMANDS, ...RUN_COMMANDS, COMPLETION];

export const commandNamed = (name: string): CommandRow | undefined => COMMANDS.find((c) => c.name === name);

const HELP_OPTION: OptionRow = { type: 'boolean', help: 'this help' };
/** A command's options with --help, which every command takes. */
export const optionsOf = (c: CommandRow): Readonly<Record<string, OptionRow>> => ({
  ...c.options(),
  help: HELP_OPTION,
});

const WIDTH = 110;

/** `text` wrapped to `width`, every line but the first indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  out.push(line);
  return out.map((l, i) => (i ? ' '.repeat(indent) + l : l)).join('\n');
}

/** An option as help writes it: `--name VALUE`. */
export const optionSyntax = (name: string, o: OptionRow): string =>
  `${name === 'help' ? '-h, ' : ''}--${name}${o.value ? ` ${o.value}` : ''}`;

/** `tlr NAME --help`. */
export function commandHelp(c: CommandRow): string {
  const usage = c.usage.map((u, i) => `${i ? '      ' : 'usage:'} tlr ${c.name}${u ? ` ${u}` : ''}`);
  const options = Object.entries(optionsOf(c));
  const col = Math.min(24, Math.max(...options.map(([n, o]) => optionSyntax(n, o).length)) + 2);
  const lines = options.map(([n, o]) => {
    const syntax = optionSyntax(n, o);
    const lead = syntax.length + 2 > col ? `  ${syntax}\n${' '.repeat(col + 2)}` : `  ${syntax.padEnd(col)}`;
    return lead + wrap(o.help, WIDTH - col - 2, col + 2);
  });
  return [usage.join('\n'), '', c.about, '', 'options:', ...lines, ...(c.notes ? ['', c.notes] : [])].join('\n');
}

/** `tlr --help`. */
export function mainHelp(): string {
  const col = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'tlr — transfer learning recipes',
    '',
    'usage: tlr COMMAND [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(col)}${wrap(c.summary, WIDTH - col - 2, col + 2)}`),
    '',
    '`tlr COMMAND --help` tells more; docs/commands.md has them all. README.md is the way in.',
  ].join('\n');
}
