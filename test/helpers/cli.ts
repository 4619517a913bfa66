import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../../src/cli/main.js';

export const ROOT = path.resolve(__dirname, '../..');

/** Runs the CLI in this process, capturing what it prints. */
export function tlr(...argv: string[]): { code: number; out: string; err: string } {
  let out = '', err = '';
  const write = process.stdout.write;
  // fmt prints recipes straight to stdout; capture that too.
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    const code = main(argv, { out: (s) => (out += s.endsWith('\n') ? s : `${s}\n`), err: (s) => (err += s.endsWith('\n') ? s : `${s}\n`) });
    if (typeof code !== 'number') throw new Error('tlr() runs synchronous commands; use tlrAsync()');
    return { code, out, err };
  } finally {
    process.stdout.write = write;
  }
}

/** Runs any command in this process (run, predict, eval, doctor are asynchronous). */
export async function tlrAsync(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { out: (s) => (out += s.endsWith('\n') ? s : `${s}\n`), err: (s) => (err += s.endsWith('\n') ? s : `${s}\n`) });
  return { code, out, err };
}

/** Runs the CLI as a user would, in a child process (from source, through tsx). */
export function tlrProcess(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, path.join(ROOT, 'src/cli/bin.ts'), ...args], {
    cwd: opts.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...opts.env },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
