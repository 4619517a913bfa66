import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRecipeBytes, RecipeFileError, UsageError } from './io.js';
import { renderDiagnostics, summary } from '../compiler/render.js';
import { diag, type Diagnostic } from '../compiler/diagnostics.js';

// Where a recipe's text comes from: a file, standard input (`-`), or a git object (`REV:PATH`, as
// `git show` takes it). Each gives the text and the path that relative paths in it start from: a
// recipe read from git or stdin is compiled as if it stood at that path in the work tree.

export interface RecipeSource {
  readonly text: string;
  /** Where it is compiled as standing (its folder resolves `on ./data`). */
  readonly file: string;
  /** How to name it to the user: the path, `REV:PATH` or `<stdin>`. */
  readonly label: string;
  /** The git revision it was read from (`HEAD`, `:0` for the index); absent for a file or stdin. */
  readonly rev?: string;
}

/**
 * A recipe's text from its bytes. One that is not text (NUL bytes, invalid UTF-8) is named and refused, not parsed
 * as noise; a byte-order mark is dropped (it would shift every column of line 1).
 */
function decoded(bytes: Buffer, label: string): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    throw new RecipeFileError(
      `${label} is not a recipe: it holds binary data (a NUL byte at offset ${nul})`,
      'TLR0002',
    );
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD') && !bytes.includes(Buffer.from('\uFFFD')))
    throw new RecipeFileError(`${label} is not a recipe: it is not valid UTF-8 text`, 'TLR0002');
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

function git(args: readonly string[]): { ok: boolean; out: Buffer; err: string } {
  const r = spawnSync('git', args, { maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new UsageError(`cannot run git (${(r.error as Error).message}); REV:PATH needs git on the PATH`);
  return { ok: r.status === 0, out: r.stdout, err: r.stderr.toString().trim() };
}

/** The work tree's root; a usage error outside a repository. */
export function gitTop(): string {
  const top = git(['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new UsageError(`not in a git repository (${top.err}); REV:PATH and --git need one`);
  return top.out.toString().trim();
}

/** A revision that names a commit, or a usage error saying it does not exist. */
export function verifyRevision(rev: string): void {
  if (rev.startsWith('-') || !git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).ok)
    throw new UsageError(`revision ${rev} does not exist in this repository`);
}

/** A recipe at a revision. `PATH` is from the repository's root, or from here when it starts with ./ or ../. */
export function fromGit(rev: string, p: string): RecipeSource {
  const top = fs.realpathSync(gitTop());
  if (!/^:[0-3]$/.test(rev)) verifyRevision(rev); // an index stage (`:0`) names no commit
  const here = p.startsWith('./') || p.startsWith('../');
  const abs = path.resolve(here ? fs.realpathSync(process.cwd()) : top, p);
  const inRepo = path.relative(top, abs);
  if (inRepo.startsWith('..') || path.isAbsolute(inRepo))
    throw new UsageError(`${p} is outside the repository at ${top}`);
  const shown = git(['show', '--end-of-options', `${rev}:${inRepo.split(path.sep).join('/')}`]);
  const label = `${rev}:${p}`;
  if (!shown.ok) throw new UsageError(`${p} is not in revision ${rev} (${shown.err.split('\n')[0]})`);
  return { text: decoded(shown.out, label), file: abs, label, rev };
}

/** A recipe named on the command line: `-` (stdin), a file, or `REV:PATH`. */
export function readSource(spec: string, opts: { stdinFilename?: string } = {}): RecipeSource {
  if (spec === '-') {
    const file = path.resolve(opts.stdinFilename ?? 'stdin.tlr');
    return { text: decoded(fs.readFileSync(0), '<stdin>'), file, label: opts.stdinFilename ?? '<stdin>' };
  }
  // REV:PATH, or git's index forms :PATH and :N:PATH; a path may hold any character, a newline too.
  const staged = /^:(?:([0-3]):)?([\s\S]+)$/.exec(spec);
  const m = staged ? ([spec, `:${staged[1] ?? 0}`, staged[2]] as const) : /^([^:]+):([\s\S]+)$/.exec(spec);
  if (m && !fs.existsSync(spec)) return fromGit(m[1]!, m[2]!);
  return { text: decoded(readRecipeBytes(spec), spec), file: spec, label: spec };
}

/**
 * A recipe named among several (check, fmt --check): its source, or, where it cannot be read or is not a recipe, its
 * one diagnostic, so that every file gets its own result and machine output stays whole.
 */
export function readEach(
  spec: string,
  opts: { stdinFilename?: string } = {},
): RecipeSource | { label: string; problem: Diagnostic } {
  try {
    return readSource(spec, opts);
  } catch (e) {
    if (!(e instanceof RecipeFileError)) throw e;
    const at = { line: 1, column: 1, offset: 0 };
    return {
      label: spec === '-' ? (opts.stdinFilename ?? '<stdin>') : spec,
      problem: diag(e.code, { start: at, end: at }, e.message),
    };
  }
}

/** A source's diagnostics as `tlr check` prints them, then their count (`r.tlr: 1 error, 1 warning`). */
export const problemsText = (src: RecipeSource, ds: readonly Diagnostic[], color: boolean): string =>
  `${renderDiagnostics(ds, src.label, src.text, { color })}\n\n${src.label}: ${summary(ds)}\n`;
