import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

// Every relative link in the project's Markdown resolves: the file exists, and an anchor (#…) names a heading of it
// as GitHub makes anchors. The README is the door and stays short; reference lives in docs/.

const ROOT = path.resolve(__dirname, '../..');
const SKIP = new Set(['node_modules', '.git', 'dist', 'runs', 'fixtures']);

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name) || e.name.startsWith('.')) return [];
    const p = path.join(dir, e.name);
    return e.isDirectory() ? markdownFiles(p) : e.name.endsWith('.md') ? [p] : [];
  });
}

/** Text outside fenced code blocks. */
const unfenced = (text: string) =>
  text
    .split(/^```.*$/m)
    .filter((_, i) => i % 2 === 0)
    .join('\n');
/** Text outside fenced code blocks and inline code. */
const prose = (text: string) => unfenced(text).replace(/`[^`\n]*`/g, '');

/** The anchors GitHub gives a file's headings (lower case, punctuation dropped, spaces to -, repeats numbered). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of unfenced(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/`/g, '')
      .replace(/[^\p{L}\p{N}\- _]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

describe('documentation', () => {
  const files = markdownFiles(ROOT);

  it('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      for (const m of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const to = file ? path.resolve(path.dirname(f), decodeURI(file)) : f;
        const where = `${path.relative(ROOT, f)}: ${target}`;
        if (!fs.existsSync(to)) broken.push(`${where} (no such file)`);
        else if (anchor && to.endsWith('.md') && !anchors(fs.readFileSync(to, 'utf8')).has(anchor))
          broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README is a door: at most 300 lines, linking to every page of docs/', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    const pages = fs
      .readdirSync(path.join(ROOT, 'docs'), { recursive: true })
      .map(String)
      .filter((p) => p.endsWith('.md'));
    for (const p of pages) expect(readme, p).toContain(`docs/${p.split(path.sep).join('/')}`);
  });
});
