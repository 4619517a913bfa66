import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import { UsageError, type Output } from './io.js';
import { printable } from '../printable.js';

// The recipes a command is given: files as named, folders searched for *.tlr, and globs (for a shell
// that did not expand them). A search skips run folders, installed packages and hidden folders, and
// follows no symbolic link, to a file or a folder, as git does not: a pull request's `leak.tlr` that
// links to .git/config (the checkout's token) is never read by `tlr check .`. A link inside the tree
// is read where its target stands; one named on the command line is read as named. In a git repository, a search
// keeps to what git lists (what .gitignore leaves out is not a recipe of the project's).

const SKIP = new Set(['runs', 'node_modules']);
const GLOB = /[*?[\]{}]/;

function walk(dir: string, out: string[], links: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name) && !e.name.startsWith('.')) walk(p, out, links);
    } else if (e.name.endsWith('.tlr')) {
      if (e.isSymbolicLink()) links.push(p);
      else if (e.isFile()) out.push(p);
    }
  }
}

/**
 * The recipes git lists under `dir` (tracked, and new ones it does not ignore), as paths under `dir`; null outside a
 * repository or without git. A folder search keeps to them, so what .gitignore leaves out (a vendored copy of tlr,
 * generated files) is not checked.
 */
function gitListed(dir: string): Set<string> | null {
  const r = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.tlr'], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (r.status !== 0 || r.error) return null;
  return new Set(
    r.stdout
      .split('\0')
      .filter(Boolean)
      .map((f) => path.resolve(dir, f)),
  );
}

/** What `a` is, following links; undefined where it cannot be (missing, a loop: read later, and named then). */
function statOrNot(a: string): fs.Stats | undefined {
  try {
    return fs.statSync(a, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** The real path of `f`, or its resolved path where it cannot be resolved (a loop, a dangling link). */
function realOrResolved(f: string): string {
  try {
    return fs.realpathSync(f);
  } catch {
    return path.resolve(f);
  }
}

/** The recipe files `args` name, in order, each once; `-` (stdin) kept as it is. Skipped links are said on `io`. */
export function recipeFiles(args: readonly string[], io?: Output): string[] {
  const out: string[] = [];
  for (const a of args) {
    const st = a === '-' ? undefined : statOrNot(a);
    if (st?.isDirectory()) {
      const found: string[] = [],
        links: string[] = [];
      walk(a, found, links);
      const listed = gitListed(a);
      if (listed) found.splice(0, found.length, ...found.filter((f) => listed.has(path.resolve(f))));
      for (const l of links)
        io?.err(`note: skipped ${printable(l)}: a symbolic link (a folder search follows none; name it to read it)`);
      if (!found.length)
        throw new UsageError(
          `${a} holds no .tlr recipe (runs/, node_modules/, hidden folders, links and what .gitignore leaves out ` +
            'are skipped)',
        );
      out.push(...found);
    } else if (!st && a !== '-' && GLOB.test(a) && !fs.lstatSync(a, { throwIfNoEntry: false })) {
      const found = globSync(a, {
        ignore: ['**/runs/**', '**/node_modules/**'],
        onlyFiles: true,
        followSymbolicLinks: false,
      }).sort();
      if (!found.length) throw new UsageError(`no recipe matches ${a}`);
      out.push(...found);
    } else {
      // A name that is not there is a typo on the command line: said before any file's result is printed.
      if (a !== '-' && !fs.lstatSync(a, { throwIfNoEntry: false })) throw new UsageError(`recipe ${a} does not exist`);
      out.push(a);
    }
  }
  const seen = new Set<string>();
  return out.filter((f) => {
    const key = f === '-' ? f : realOrResolved(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
