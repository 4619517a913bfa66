import * as fs from 'node:fs';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import { UsageError } from './io.js';

// The recipes a command is given: files as named, folders searched for *.tlr, and globs (for a shell
// that did not expand them). A search skips run folders, installed packages and hidden folders, and
// never follows a link to a folder (no loops).

const SKIP = new Set(['runs', 'node_modules']);
const GLOB = /[*?[\]{}]/;

function walk(dir: string, out: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name) && !e.name.startsWith('.')) walk(p, out);
    } else if (
      e.name.endsWith('.tlr') &&
      (e.isFile() || (e.isSymbolicLink() && fs.statSync(p, { throwIfNoEntry: false })?.isFile()))
    )
      out.push(p);
  }
}

/** The recipe files `args` name, in order, each once; `-` (stdin) kept as it is. */
export function recipeFiles(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const st = a === '-' ? undefined : fs.statSync(a, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      const found: string[] = [];
      walk(a, found);
      if (!found.length)
        throw new UsageError(`${a} holds no .tlr recipe (runs/, node_modules/ and hidden folders are skipped)`);
      out.push(...found);
    } else if (!st && a !== '-' && GLOB.test(a)) {
      const found = globSync(a, { ignore: ['**/runs/**', '**/node_modules/**'], onlyFiles: true }).sort();
      if (!found.length) throw new UsageError(`no recipe matches ${a}`);
      out.push(...found);
    } else out.push(a);
  }
  return [...new Set(out)];
}
