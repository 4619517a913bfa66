import * as fs from 'node:fs';
import { compile } from '../compiler/index.js';

// What every command shares: colour, reading recipes, atomic writes, usage errors.

export { UsageError } from '../errors.js';
import { UsageError } from '../errors.js';

/** Whether to colour output: NO_COLOR and FORCE_COLOR first, else a terminal. */
export const useColor = (stream: NodeJS.WriteStream = process.stdout): boolean => {
  if (process.env['NO_COLOR']) return false;
  if (process.env['FORCE_COLOR'] && process.env['FORCE_COLOR'] !== '0') return true;
  return !!stream.isTTY;
};

export interface Output {
  out(s: string): void;
  err(s: string): void;
}

export const stdio: Output = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
};

/** A recipe's text; a usage error names the file and says what is wrong. */
export const readRecipe = (file: string): string => readRecipeBytes(file).toString('utf8');

/** A recipe file's bytes, for a reader that checks its encoding; the same usage errors as readRecipe. */
export function readRecipeBytes(file: string): Buffer {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw new UsageError(`${file} is a folder; give a recipe file (.tlr)`);
    return fs.readFileSync(file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `recipe ${file} does not exist` : `cannot read recipe ${file}: ${(e as Error).message}`,
    );
  }
}

/**
 * A recipe file compiled: its text and the compiler's result (diagnostics, and a plan when there
 * are no errors). `whileSaving`: a file missing for a moment (an editor saving by renaming) reads as empty.
 */
export function compileFile(
  file: string,
  opts: { whileSaving?: boolean; sweeps?: boolean } = {},
): ReturnType<typeof compile> & { readonly text: string } {
  const text = opts.whileSaving && !fs.existsSync(file) ? '' : readRecipe(file);
  return { ...compile(text, { file, sweeps: opts.sweeps }), text };
}

export { fmtInt, plural } from '../text/numbers.js';
