import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Code that reads at once: functions of at most 80 lines, files of at most 400, lines of at most 120 characters
// outside data tables. Generated files and tests' fixtures are left out; a data table is named here with why.

const ROOT = path.resolve(__dirname, '..');
/** Tables whose rows are sentences (a code's help, an example recipe): wrapping them would only hide them. */
const TABLES = new Set(['src/compiler/codes.ts', 'src/compiler/code-examples.ts']);

function sources(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return ['generated', 'node_modules', '__pycache__'].includes(e.name) ? [] : sources(rel, ext);
    return ext.test(e.name) ? [rel] : [];
  });
}

const tsFiles = [...sources('src', /\.tsx?$/), ...sources('scripts', /\.(ts|mjs)$/), ...sources('bench', /\.ts$/)];

/** Every function of a TypeScript file longer than `most` lines, as FILE:LINE NAME (N lines). */
function longFunctions(file: string, most: number): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const a = sf.getLineAndCharacterOfPosition(n.getStart()).line,
        b = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      const name =
        (n as { name?: ts.Node }).name?.getText() ??
        (ts.isVariableDeclaration(n.parent) ? n.parent.name.getText() : '');
      if (b - a + 1 > most) out.push(`${file}:${a + 1} ${name} (${b - a + 1} lines)`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('code health', () => {
  it('TypeScript: functions of at most 80 lines', () => {
    expect(tsFiles.flatMap((f) => longFunctions(f, 80))).toEqual([]);
  });

  it('files of at most 400 lines, lines of at most 120 characters outside data tables', () => {
    const files = [...tsFiles, ...sources('python', /\.py$/)];
    const long = files.filter((f) => fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').length > 400);
    const wide = files
      .filter((f) => !TABLES.has(f))
      .flatMap((f) =>
        fs
          .readFileSync(path.join(ROOT, f), 'utf8')
          .split('\n')
          .flatMap((l, i) => (l.length > 120 ? [`${f}:${i + 1} (${l.length})`] : [])),
      );
    expect({ long, wide }).toEqual({ long: [], wide: [] });
  });

  it('Python: functions of at most 80 lines', () => {
    const probe = `import ast, sys
for f in sys.argv[1:]:
    for n in ast.walk(ast.parse(open(f).read())):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 80:
            print(f"{f}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)")`;
    const out = cp.execFileSync('python3', ['-c', probe, ...sources('python', /\.py$/)], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out.trim().split('\n').filter(Boolean)).toEqual([]);
  });
});
