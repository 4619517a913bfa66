import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Which recipe a run came from: its digest (sha256 of the text the run used), and, when the recipe
// is in a git work tree, the commit checked out and whether the file differed from it. Recorded in
// engine.json when the run starts and copied into environment.json when it finishes, so a run is
// traced back to a revision even after the recipe moved on.

export interface RecipeProvenance {
  /** sha256 of the recipe's text, as the run read it. */
  readonly digest: string;
  /** The file, relative to the repository's root when it is in one. */
  readonly path: string;
  /** null outside a git work tree (or without git). */
  readonly git: {
    readonly commit: string;
    /** The file differs from that commit, or is not in it. */
    readonly dirty: boolean;
  } | null;
}

export const recipeDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

function git(cwd: string, args: readonly string[]): string | null {
  const r = spawnSync('git', ['-C', cwd, ...args], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && !r.error ? r.stdout.trim() : null;
}

/** Where `file` (with the text a run read) comes from. */
export function recipeProvenance(file: string, text: string): RecipeProvenance {
  const digest = recipeDigest(text);
  const dir = path.dirname(path.resolve(file));
  const top = fs.existsSync(dir) ? git(dir, ['rev-parse', '--show-toplevel']) : null;
  const commit = top && git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD']);
  if (!top || !commit) return { digest, path: file, git: null };
  const rel = path
    .relative(fs.realpathSync(top), fs.realpathSync(path.resolve(file)))
    .split(path.sep)
    .join('/');
  // The text at HEAD against the text the run read: a file saved since the editor's last commit is dirty.
  const atHead = spawnSync('git', ['-C', top, 'show', `HEAD:${rel}`], { encoding: 'utf8', timeout: 10_000 });
  const dirty = atHead.status !== 0 || atHead.stdout !== text;
  return { digest, path: rel, git: { commit, dirty } };
}
