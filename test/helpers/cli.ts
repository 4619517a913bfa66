import { spawn } from 'node:child_process';
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

/** Runs the CLI as a user would, in a child process (from source, through tsx). */
export async function tlrProcess(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const r = await spawnAsync(process.execPath, nodeWithTsx(path.join(ROOT, 'src/cli/bin.ts'), ...args), {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    input: opts.input,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
