import type { CommandRow, OptionRow } from './row.js';
import { MODEL_NAMES } from '../../zoo/catalog.js';

// Shell completion scripts, made from the command table: command names, each command's options, the values an
// option takes (its choices, or files and folders), and what its operands are. Every text put into a script is one
// of tlr's own strings, quoted for the shell it goes to.

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

type Table = readonly CommandRow[];
const optionsOf = (c: CommandRow): [string, OptionRow][] => [
  ...Object.entries(c.options()),
  ['help', { type: 'boolean', help: 'this help' }],
];
/** Single-quoted for sh, bash and zsh. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** A short description: the help's first clause, at most 60 characters. */
const brief = (s: string) => {
  const first = s.split(/[;(]/)[0]!.trim();
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
};

function bash(table: Table): string {
  const operand = (c: CommandRow) =>
    ({
      recipes: `COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") )`,
      files: 'COMPREPLY=( $(compgen -f -- "$cur") )',
      dirs: 'COMPREPLY=( $(compgen -d -- "$cur") )',
      models: `COMPREPLY=( $(compgen -W ${sq(MODEL_NAMES.join(' '))} -- "$cur") )`,
      none: 'COMPREPLY=()',
    })[c.operands];
  const value = (o: OptionRow) =>
    o.choices
      ? `COMPREPLY=( $(compgen -W ${sq(o.choices.join(' '))} -- "$cur") )`
      : o.complete === 'dir'
        ? 'COMPREPLY=( $(compgen -d -- "$cur") )'
        : o.complete === 'file'
          ? 'COMPREPLY=( $(compgen -f -- "$cur") )'
          : 'COMPREPLY=()';
  const cases = table.map((c) => {
    const opts = optionsOf(c);
    const valued = opts.filter(([, o]) => o.type === 'string');
    return [
      `    ${c.name})`,
      ...(valued.length
        ? ['      case "$prev" in', ...valued.map(([n, o]) => `        --${n}) ${value(o)}; return ;;`), '      esac']
        : []),
      `      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W ${sq(opts.map(([n]) => `--${n}`).join(' '))} ` +
        `-- "$cur") ); return; fi`,
      `      ${operand(c)} ;;`,
    ].join('\n');
  });
  return `# bash completion for tlr; generated from tlr's command table by \`tlr completion bash\`.
_tlr() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${sq(table.map((c) => c.name).join(' '))} -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
}
complete -o filenames -F _tlr tlr
`;
}

/** For zsh's _arguments specs: brackets, colons and backslashes escaped. */
const zq = (s: string) => s.replace(/[\\[\]:]/g, (c) => `\\${c}`);

function zsh(table: Table): string {
  const operand = (c: CommandRow) =>
    ({
      recipes: `'*:recipe:_files -g "*.tlr(-.)"'`,
      files: `'*:file:_files'`,
      dirs: `'*:folder:_files -/'`,
      models: `'*:network:(${MODEL_NAMES.join(' ')})'`,
      none: '',
    })[c.operands];
  const spec = ([n, o]: [string, OptionRow]) => {
    const action = o.choices
      ? `:${zq(o.value ?? n)}:(${o.choices.join(' ')})`
      : o.complete === 'dir'
        ? `:${zq(o.value ?? n)}:_files -/`
        : o.complete === 'file'
          ? `:${zq(o.value ?? n)}:_files`
          : o.type === 'string'
            ? `:${zq(o.value ?? n)}: `
            : '';
    return sq(`--${n}[${zq(brief(o.help))}]${action}`);
  };
  const cases = table.map(
    (c) => `    ${c.name}) _arguments ${[...optionsOf(c).map(spec), operand(c)].filter(Boolean).join(' ')} ;;`,
  );
  return `#compdef tlr
# zsh completion for tlr; generated from tlr's command table by \`tlr completion zsh\`.
_tlr() {
  local -a commands
  commands=(${table.map((c) => sq(`${c.name}:${zq(brief(c.summary))}`)).join(' ')})
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases.join('\n')}
  esac
}
_tlr "$@"
`;
}

/** Single-quoted for fish (backslash and quote escaped). */
const fq = (s: string) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

function fish(table: Table): string {
  const lines = [
    "# fish completion for tlr; generated from tlr's command table by `tlr completion fish`.",
    'complete -c tlr -f',
    ...table.map((c) => `complete -c tlr -n __fish_use_subcommand -a ${c.name} -d ${fq(brief(c.summary))}`),
  ];
  for (const c of table) {
    const when = `-n ${fq(`__fish_seen_subcommand_from ${c.name}`)}`;
    for (const [n, o] of optionsOf(c)) {
      const takes = o.choices
        ? ` -x -a ${fq(o.choices.join(' '))}`
        : o.complete === 'dir'
          ? ` -x -a '(__fish_complete_directories)'`
          : o.complete === 'file'
            ? ' -r -F'
            : o.type === 'string'
              ? ' -x'
              : '';
      lines.push(`complete -c tlr ${when} -l ${n}${takes} -d ${fq(brief(o.help))}`);
    }
    const operand = {
      recipes: `-a '(__fish_complete_suffix .tlr)'`,
      files: '-F',
      dirs: `-a '(__fish_complete_directories)'`,
      models: `-a ${fq(MODEL_NAMES.join(' '))}`,
      none: '',
    }[c.operands];
    if (operand) lines.push(`complete -c tlr ${when} ${operand}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell`. */
export const completionScript = (shell: Shell, table: Table): string => ({ bash, zsh, fish })[shell](table);
