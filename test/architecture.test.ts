import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';

// The rooms of src/ and the arrows between them, drawn from the imports (static, dynamic and
// type-only alike): each room imports only the rooms listed for it (README, Architecture), arrows
// point one way, no two files import each other in a loop, and engines are peers behind the table.

const SRC = path.resolve(__dirname, '../src');
const ALLOWED: Record<string, readonly string[]> = {
  cli: [
    'ui',
    'serve',
    'review',
    'lsp',
    'watch',
    'text',
    'compiler',
    'engines',
    'report',
    'runtime',
    'zoo',
    'data',
    'contracts',
    'files',
    'errors',
    'version',
    'paths',
    'printable',
    'escape',
  ],
  index: ['compiler', 'zoo', 'data', 'contracts'],
  // tlr serve: HTTP in front of the engine table's model service (types only), with the runtime's decoding.
  serve: ['engines', 'runtime', 'version', 'printable', 'errors'],
  ui: ['runtime', 'text', 'watch', 'printable', 'escape'],
  watch: ['contracts'],
  text: ['runtime', 'printable', 'escape'],
  compiler: ['zoo', 'data', 'contracts', 'paths', 'printable', 'escape'],
  review: ['compiler', 'text', 'zoo', 'data', 'contracts', 'paths', 'printable', 'escape'],
  // The language server reads the compiler, the zoo and the review's phrases: never an engine or the runtime.
  lsp: ['compiler', 'review', 'zoo', 'data', 'contracts', 'printable', 'escape'],
  // The playground: the language services and the explained recipe in a page (no engine, no runtime).
  playground: ['lsp', 'review', 'report', 'compiler', 'zoo', 'data', 'contracts', 'escape'],
  engines: ['report', 'runtime', 'zoo', 'data', 'contracts', 'files', 'errors', 'version', 'printable', 'escape'],
  report: ['review', 'runtime', 'text', 'data', 'contracts', 'files', 'escape'],
  runtime: ['zoo', 'data', 'contracts', 'files', 'errors', 'version', 'escape'],
  zoo: ['contracts'],
  contracts: ['data', 'errors'],
  // files: atomic writes and where the cache is (data keeps folder listings there).
  data: ['errors', 'files'],
  files: ['errors'],
  errors: [],
  version: [],
  paths: [],
  printable: [],
  escape: ['printable'],
};

/** The engine table and the contract every engine and command shares: all of src/engines a command may name. */
const ENGINE_FACE = ['engines/index.ts', 'engines/types.ts'];

const files = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? files(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : [],
    );
const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');
const roomOf = (file: string) =>
  rel(file)
    .split('/')[0]!
    .replace(/\.(tsx?|js)$/, '');
/** engines/tfjs/x.ts -> tfjs; the table and the contract -> null. */
const engineOf = (file: string) => /^engines\/([^/]+)\//.exec(rel(file))?.[1] ?? null;

/** Every relative import of a file (from, import(), export … from, import type), resolved to a source file. */
function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const target = path.resolve(path.dirname(file), m[1]!);
    const ts = [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), target].find(
      (t) => fs.existsSync(t) && fs.statSync(t).isFile(),
    );
    if (ts?.startsWith(SRC)) out.push(ts);
  }
  return out;
}

const GRAPH = new Map(files(SRC).map((f) => [f, imports(f)]));

it('every import between rooms follows an allowed arrow', () => {
  const wrong: string[] = [];
  for (const [f, targets] of GRAPH) {
    for (const t of targets) {
      const a = roomOf(f),
        b = roomOf(t);
      if (a !== b && !(ALLOWED[a] ?? []).includes(b)) wrong.push(`${rel(f)} imports ${rel(t)} (${a} -> ${b})`);
    }
  }
  expect(wrong).toEqual([]);
});

it('the allowed arrows have no cycle', () => {
  const seen = new Set<string>(),
    onPath = new Set<string>();
  const visit = (r: string): void => {
    expect(onPath.has(r), `cycle through ${r}`).toBe(false);
    if (seen.has(r)) return;
    onPath.add(r);
    for (const n of ALLOWED[r] ?? []) visit(n);
    onPath.delete(r);
    seen.add(r);
  };
  Object.keys(ALLOWED).forEach(visit);
  expect(Object.keys(ALLOWED).sort()).toEqual(
    fs
      .readdirSync(SRC)
      .map((n) => n.replace(/\.tsx?$/, ''))
      .sort(),
  );
});

it('no two files import each other in a loop (type-only and dynamic imports count)', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of GRAPH.get(f) ?? []) {
      if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map(rel).join(' -> '));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of GRAPH.keys()) if (!state.has(f)) visit(f);
  expect(cycles).toEqual([]);
});

it('engines are peers: no engine imports another, and only the table imports an engine', () => {
  const wrong: string[] = [];
  for (const [f, targets] of GRAPH) {
    for (const t of targets) {
      const to = engineOf(t);
      if (!to || engineOf(f) === to) continue;
      const isTableRow = rel(f) === 'engines/index.ts' && rel(t) === `engines/${to}/index.ts`;
      if (!isTableRow) wrong.push(`${rel(f)} imports ${rel(t)}`);
    }
  }
  expect(wrong).toEqual([]);
});

it("commands and views name only the engine table and its contract, never an engine's files", () => {
  const wrong: string[] = [];
  for (const [f, targets] of GRAPH) {
    if (roomOf(f) !== 'cli' && roomOf(f) !== 'ui') continue;
    for (const t of targets)
      if (roomOf(t) === 'engines' && !ENGINE_FACE.includes(rel(t))) wrong.push(`${rel(f)} imports ${rel(t)}`);
  }
  expect(wrong).toEqual([]);
});

it('every engine folder has an index.ts that the table names', () => {
  const table = fs.readFileSync(path.join(SRC, 'engines/index.ts'), 'utf8');
  for (const e of fs.readdirSync(path.join(SRC, 'engines'), { withFileTypes: true }).filter((d) => d.isDirectory())) {
    expect(fs.existsSync(path.join(SRC, 'engines', e.name, 'index.ts')), e.name).toBe(true);
    expect(table, e.name).toContain(`./${e.name}/index.js`);
  }
});
