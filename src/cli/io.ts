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
export const readRecipe = (file: string): string =>
  readRecipeBytes(file)
    .toString('utf8')
    .replace(/^\uFEFF/, '');

/** The most a recipe file may hold: a recipe is a page of text; a larger file is not one (and is not read whole). */
export const MAX_RECIPE_BYTES = 1 << 20;

/**
 * A recipe file that cannot be read, or is not a recipe: a usage error where one recipe is needed, one diagnostic on
 * that file (its code) where several are checked.
 */
export class RecipeFileError extends UsageError {
  constructor(
    message: string,
    readonly code: 'TLR0002' | 'TLR0003',
  ) {
    super(message);
  }
}

/** Why an open failed, said for a recipe that is there (a missing one is a usage error). */
function openProblem(file: string, e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOENT') return `${file} is a symbolic link to nothing`;
  if (e.code === 'ELOOP') return `${file} is a symbolic link that loops`;
  if (e.code === 'EACCES') return `cannot read recipe ${file}: permission denied`;
  if (e.code === 'EISDIR') return `${file} is a folder; give a recipe file (.tlr)`;
  return `cannot read recipe ${file}: ${e.message}`;
}

/**
 * A recipe file's bytes, for a reader that checks its encoding. Opened without blocking (a named pipe would wait
 * for a writer forever) and read only when it is a regular file of at most MAX_RECIPE_BYTES.
 */
export function readRecipeBytes(file: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    // A recipe that is not there at all is a usage error (a typo on the command line), not a problem of a file.
    if (!fs.lstatSync(file, { throwIfNoEntry: false })) throw new UsageError(`recipe ${file} does not exist`);
    throw new RecipeFileError(openProblem(file, e as NodeJS.ErrnoException), 'TLR0003');
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new RecipeFileError(`${file} is a folder; give a recipe file (.tlr)`, 'TLR0003');
    if (!st.isFile())
      throw new RecipeFileError(`${file} is not a regular file (a named pipe, socket or device)`, 'TLR0003');
    if (st.size > MAX_RECIPE_BYTES)
      throw new RecipeFileError(`${file} is ${st.size} bytes: larger than a recipe can be (1 MiB)`, 'TLR0003');
    return fs.readFileSync(fd);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new RecipeFileError(`cannot read recipe ${file}: ${(e as Error).message}`, 'TLR0003');
  } finally {
    fs.closeSync(fd);
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
