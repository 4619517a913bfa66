import * as fs from 'node:fs';
import * as path from 'node:path';
import puppeteer from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { explain, explainMarkdown } from '../../src/review/explain.js';

// The diagrams `tlr explain` draws parse with Mermaid itself (npm's mermaid, in Debian's Chromium) and fit a page, on
// every recipe in recipes/ whose data is here (fashion-mnist's needs ../shared).

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

function diagrams(): { recipe: string; text: string }[] {
  const out: { recipe: string; text: string }[] = [];
  for (const dir of ['recipes/quickstart', 'recipes/fashion-mnist'])
    for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((x) => x.endsWith('.tlr'))) {
      const file = path.join(ROOT, dir, f);
      const c = compile(fs.readFileSync(file, 'utf8'), { file });
      if (!c.plan) continue; // a sweep, or data not here
      const md = explainMarkdown(explain(c.plan), `${dir}/${f}`);
      for (const m of md.matchAll(/```mermaid\n([\s\S]*?)```/g)) out.push({ recipe: `${dir}/${f}`, text: m[1]! });
    }
  return out;
}

describe.skipIf(!CHROMIUM)('Mermaid diagrams (skips without Chromium: apt-get install -y chromium)', () => {
  it('every diagram of every recipe parses and renders no wider than a page', async () => {
    const found = diagrams();
    expect(found.length).toBeGreaterThan(2);
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.setContent('<!doctype html><html><body></body></html>');
      await page.addScriptTag({ path: path.join(ROOT, 'node_modules/mermaid/dist/mermaid.min.js') });
      const results = await page.evaluate(
        async (texts: string[]) => {
          const m = (
            globalThis as unknown as {
              mermaid: { initialize(o: object): void; render(id: string, t: string): Promise<{ svg: string }> };
            }
          ).mermaid;
          m.initialize({ startOnLoad: false });
          const out: { error: string | null; width: number }[] = [];
          for (const [i, t] of texts.entries()) {
            try {
              const { svg } = await m.render(`d${i}`, t);
              const box = /viewBox="[-\d.]+ [-\d.]+ ([\d.]+) /.exec(svg);
              out.push({ error: null, width: box ? Number(box[1]) : Number.NaN });
            } catch (e) {
              out.push({ error: String((e as Error).message ?? e), width: 0 });
            }
          }
          return out;
        },
        found.map((d) => d.text),
      );
      results.forEach((r, i) => {
        expect(r.error, found[i]!.recipe).toBeNull();
        // GitHub's Markdown column is about 900 pixels wide.
        expect(r.width, found[i]!.recipe).toBeLessThanOrEqual(900);
      });
    } finally {
      await browser.close();
    }
  }, 120_000);
});
