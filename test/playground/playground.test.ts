import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

// The playground in a real browser (Debian's chromium, headless, driven by puppeteer-core; no
// browser is downloaded): built into a temporary folder, opened from file:// with no server.
// TLR_ACCEPT=1 also writes the README's screenshot (docs/playground.png).

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const SKIP = 'needs Chromium (apt-get install -y chromium); .ci/run installs it';

let browser: Browser;
let page: Page;
let url: string;
let dir: string;

const text = (sel: string) => page.$eval(sel, (e) => e.textContent ?? '');
const until = async (sel: string, re: RegExp) => {
  await page.waitForFunction(
    (s: string, src: string) => new RegExp(src).test(document.querySelector(s)?.textContent ?? ''),
    { timeout: 20_000 },
    sel,
    re.source,
  );
  return text(sel);
};

beforeAll(async () => {
  if (!CHROMIUM) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-playground-'));
  const { buildPlayground } = await import(pathToFileURL(path.join(ROOT, 'scripts/playground/build.mjs')).href);
  url = pathToFileURL(await buildPlayground(dir)).href;
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM)(`the playground (${CHROMIUM ? 'headless Chromium' : SKIP})`, () => {
  it('opens from file:// with no errors, says the data checks are off, and shows the plan', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    expect(await until('#problems', /no problems/)).toBe('no problems');
    expect(await text('#note')).toContain('Data checks are off in the browser');
    expect(await text('#plan')).toContain('model · network: resnet34');
    expect(await page.$$eval('.tlr-explain .block', (b) => b.length)).toBeGreaterThan(5);
    expect(errors).toEqual([]);
  }, 60_000);

  it('a typo gets its diagnostic as you type; taking the quick fix changes the plan', async () => {
    const at = await page.evaluate(() => {
      const v = (window as unknown as { tlrPlayground: { view: import('@codemirror/view').EditorView } }).tlrPlayground
        .view;
      const i = v.state.doc.toString().indexOf('resnet34') + 'resnet34'.length;
      v.dispatch({ selection: { anchor: i } });
      v.focus();
      return i;
    });
    expect(at).toBeGreaterThan(0);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('99');
    expect(await until('#problems', /TLR1002/)).toContain('there is no model named `resnet99` in the zoo');
    expect(await text('#plan')).toBe('no plan: fix the problems first');
    const fixes = await page.$$eval('#problems button.fix', (b) => b.map((x) => x.textContent));
    expect(fixes).toEqual(expect.arrayContaining(['resnet34']));
    await page.evaluate(() =>
      [...document.querySelectorAll<HTMLButtonElement>('#problems button.fix')]
        .find((b) => b.textContent === 'resnet18')!
        .click(),
    );
    expect(await until('#problems', /no problems/)).toBe('no problems');
    expect(await until('#plan', /network: resnet18/)).toContain('model · network: resnet18');
  }, 60_000);

  it('completes the network’s blocks, and hovers a network', async () => {
    await page.evaluate(() => {
      const v = (window as unknown as { tlrPlayground: { view: import('@codemirror/view').EditorView } }).tlrPlayground
        .view;
      const doc = v.state.doc.toString();
      const i = doc.indexOf('block3');
      v.dispatch({ changes: { from: i, to: i + 'block3'.length, insert: '' }, selection: { anchor: i } });
      v.focus();
    });
    await page.keyboard.type('bl');
    await page.waitForSelector('.cm-tooltip-autocomplete', { timeout: 10_000 });
    const options = await page.$$eval('.cm-completionLabel', (l) => l.map((x) => x.textContent));
    expect(options).toEqual(expect.arrayContaining(['block1', 'block4']));
    await page.keyboard.press('Escape');
    const box = await page.evaluate(() => {
      const v = (window as unknown as { tlrPlayground: { view: import('@codemirror/view').EditorView } }).tlrPlayground
        .view;
      const r = v.coordsAtPos(v.state.doc.toString().indexOf('resnet18') + 2)!;
      return { x: r.left + 2, y: (r.top + r.bottom) / 2 };
    });
    await page.mouse.move(box.x, box.y);
    await page.waitForSelector('.tlr-hover', { timeout: 10_000 });
    expect(await text('.tlr-hover')).toMatch(/^resnet18: /);
  }, 60_000);

  it('a recipe travels in the URL fragment', async () => {
    const recipe = 'from densenet121\nhead dense(3)\ntrain 5 epochs on ./photos\n';
    await page.goto(`${url}#r=${encodeURIComponent(recipe)}`);
    await page.reload();
    expect(await until('#plan', /densenet121/)).toContain('model · network: densenet121');
    expect(await text('#note')).toContain('3 classes of 100 images');
    // A link that is not valid percent-encoding: said, with the example shown, never a blank page.
    await page.goto(`${url}#r=%ZZfrom`);
    await page.reload();
    expect(await until('#note', /not valid percent-encoding/)).toContain('the example is shown instead');
    expect(await text('#plan')).toMatch(/network/);
    // A sweep: its first variant's plan, said as such (not "no plan" beside "no problems").
    await page.goto(`${url}#r=${encodeURIComponent('from resnet18\ntrain 1 epoch on ./p lr {1e-3, 1e-4}\n')}`);
    await page.reload();
    expect(await until('#plan', /sweep/)).toMatch(/^a sweep of 2 variants/);
    if (process.env['TLR_ACCEPT'] === '1') {
      const shown =
        'recipe "clothes"\n\nfrom mobilenet_v2\n  width 0.35\n\nhead dropout(0.2) dense(4)\n\n' +
        'train 10 epochs on ./clothes\n  lr 0.003\n\nthen unfreeze from block14 train 3 epochs\n  batch 16\n';
      await page.goto(`${url}#r=${encodeURIComponent(shown)}`);
      await page.reload();
      await until('#plan', /stage 2/);
      await page.screenshot({ path: path.join(ROOT, 'docs/playground.png') });
    }
  }, 60_000);
});
