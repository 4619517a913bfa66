import { parseArgs } from 'node:util';
import { commandHelp, commandNamed, COMMANDS, mainHelp, optionsOf } from './table/index.js';
import type { Values } from './table/row.js';
import { stdio, UsageError, type Output } from './io.js';
import { TLR_VERSION } from '../version.js';
import { TlrError } from '../errors.js';
import { printable } from '../printable.js';

// The entry: parses the command line by the command table (cli/table/) and runs the command's row.

/** Runs one command; returns its exit status (a promise for the commands that run models). */
export function main(argv: string[], io: Output = stdio): number | Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    io.out(`tlr ${TLR_VERSION}`);
    return 0;
  }
  const cmd = commandNamed(name);
  try {
    if (!cmd) throw new UsageError(`unknown command ${name}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const options = Object.fromEntries(
      Object.entries(optionsOf(cmd)).map(([n, o]) => [
        n,
        n === 'help' ? { type: o.type, short: 'h' } : { type: o.type },
      ]),
    );
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    } catch (e) {
      const message = (e as Error).message.replace(/\. To specify.*$/s, '');
      throw Object.assign(new UsageError(message), { help: commandHelp(cmd) });
    }
    if (parsed.values['help']) {
      io.out(commandHelp(cmd));
      return 0;
    }
    const r = cmd.run(parsed.positionals, parsed.values as Values, io);
    return typeof r === 'number' ? r : r.catch((e: unknown) => failure(e, io));
  } catch (e) {
    return failure(e, io);
  }
}

function failure(e: unknown, io: Output): number {
  // Errors tlr expects (src/errors.ts) carry their message and exit status; anything else is a bug.
  if (e instanceof TlrError) {
    // A message can name a file or a class: escaped, as everything tlr prints from outside (a newline in a name
    // cannot start a line of its own). The command's usage, tlr's own text, follows as it is.
    const help = (e as TlrError & { help?: string }).help;
    io.err(`tlr: ${printable(e.message)}${help ? `\n\n${help}` : ''}`);
    return e.exitCode;
  }
  io.err(
    `tlr: internal error: ${(e as Error).message}\nThis is a bug in tlr; please report it with what you ` +
      `ran.${process.env['TLR_DEBUG'] ? `\n${(e as Error).stack}` : ''}`,
  );
  return 1;
}
