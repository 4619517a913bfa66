import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';

// The rooms of src/ and the arrows between them, drawn from the imports: each room imports only
// the rooms listed for it (README, Architecture), so arrows point one way and there are no cycles.

const SRC = path.resolve(__dirname, '../src');
const ALLOWED: Record<string, readonly string[]> = {
  cli: ['ui', 'watch', 'text', 'compiler', 'runtime', 'zoo', 'data', 'plan', 'files', 'errors', 'version', 'paths', 'printable'],
  index: ['compiler', 'zoo', 'data', 'plan'],
  ui: ['runtime', 'text', 'watch', 'printable'],
  watch: ['plan'],
  text: ['runtime'],
  compiler: ['zoo', 'data', 'plan', 'paths', 'printable'],
  runtime: ['zoo', 'data', 'plan', 'files', 'errors', 'version'],
  zoo: ['plan'],
  plan: ['data', 'errors'],
  data: ['errors'],
  files: ['errors'],
  errors: [], version: [], paths: [], printable: [],
};

const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? files(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : []);
const roomOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!.replace(/\.(tsx?|js)$/, '');

it('every import between rooms follows an allowed arrow', () => {
  const wrong: string[] = [];
  for (const f of files(SRC)) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(f), m[1]!);
      if (!target.startsWith(SRC)) continue;
      const a = roomOf(f), b = roomOf(target);
      if (a !== b && !(ALLOWED[a] ?? []).includes(b)) wrong.push(`${path.relative(SRC, f)} imports ${m[1]} (${a} -> ${b})`);
    }
  }
  expect(wrong).toEqual([]);
});

it('the allowed arrows have no cycle', () => {
  const seen = new Set<string>(), onPath = new Set<string>();
  const visit = (r: string): void => {
    expect(onPath.has(r), `cycle through ${r}`).toBe(false);
    if (seen.has(r)) return;
    onPath.add(r);
    for (const n of ALLOWED[r] ?? []) visit(n);
    onPath.delete(r);
    seen.add(r);
  };
  Object.keys(ALLOWED).forEach(visit);
  expect(Object.keys(ALLOWED).sort()).toEqual(fs.readdirSync(SRC).map((n) => n.replace(/\.tsx?$/, '')).sort());
});
