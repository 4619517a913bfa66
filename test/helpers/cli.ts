import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../../src/cli/main.js';

export const ROOT = path.resolve(__dirname, '../..');

/** Runs the CLI in this process, capturing what it prints. */
export function tlr(...argv: string[]): { code: number; out: string; err: string } {
  let out = '',
    err = '';
  const write = process.stdout.write;
  // fmt prints recipes straight to stdout; capture that too.
  process.stdout.write = ((s: string) => {
    out += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = main(argv, {
      out: (s) => (out += s.endsWith('\n') ? s : `${s}\n`),
      err: (s) => (err += s.endsWith('\n') ? s : `${s}\n`),
    });
    if (typeof code !== 'number') throw new Error('tlr() runs synchronous commands; use tlrAsync()');
    return { code, out, err };
  } finally {
    process.stdout.write = write;
  }
}

/** Runs any command in this process (run, predict, eval, doctor are asynchronous). */
export async function tlrAsync(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  const code = await main(argv, {
    out: (s) => (out += s.endsWith('\n') ? s : `${s}\n`),
    err: (s) => (err += s.endsWith('\n') ? s : `${s}\n`),
  });
  return { code, out, err };
}

/**
 * A child process's exit status and output, without blocking this worker's event loop: a test
 * worker that blocks (spawnSync on a busy machine) misses the runner's RPC deadline and the run
 * fails with "Timeout calling onTaskUpdate" even when every test passed.
 */
export function spawnAsync(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string /** Always utf8. */; encoding?: 'utf8' } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env });
    let stdout = '',
      stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Node with tsx's loader, running a source file of this repository as a user's process would. */
export const nodeWithTsx = (...args: string[]): string[] => [
  '--import',
  pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
  ...args,
];

/** The newest modification time under a folder (files only). */
function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Node's arguments for the CLI as a process: the built CLI (dist/, as `npm ci` leaves it) when it
 * is newer than every source file, else the sources through tsx. The same code either way; the
 * built one starts in a fraction of the time, which the suite's many child processes add up.
 */
export const cliArgs = (() => {
  let args: string[] | null = null;
  return (): string[] => {
    if (!args) {
      const built = path.join(ROOT, 'dist/cli/bin.js');
      const fresh = fs.existsSync(built) && fs.statSync(built).mtimeMs > newest(path.join(ROOT, 'src'));
      args = fresh ? [built] : nodeWithTsx(path.join(ROOT, 'src/cli/bin.ts'));
    }
    return args;
  };
})();

/** Runs the CLI as a user would, in a child process (built, or from source through tsx). */
export async function tlrProcess(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const r = await spawnAsync(process.execPath, [...cliArgs(), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    input: opts.input,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
