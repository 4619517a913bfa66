import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, format } from '../../src/compiler/index.js';
import { partCounts, stratify } from '../../src/data/stratify.js';
import { rng } from '../../src/data/random.js';
import { diffPlans } from '../../src/review/diff.js';

// Multi-label data in the language: a CSV with a `labels` column or one 0/1 column per label, `multi-label` after the
// head's layers, splits made by iterative stratification (every label in every part), and diagnostics where the head
// and the data disagree or a label is too rare for the split. test/engines/multi-label.test.ts trains such plans.

const VALID = path.resolve(__dirname, '../fixtures/valid');
const at = (text: string) => compile(text, { file: path.join(VALID, 'ml.tlr') });
const recipe = (on: string, head = 'head dense(4) multi-label') =>
  `from resnet18\n  input 64\n${head}\ntrain 2 epochs on ${on}\nsplit 60/20/20\n`;

describe('multi-label data', () => {
  it('a labels column and 0/1 columns give the same plan: labels, images per label and per part', () => {
    const a = at(recipe('../data/tags.csv')),
      b = at(recipe('../data/tags-columns.csv'));
    expect(a.diagnostics).toEqual([]);
    expect(a.plan!.task).toBe('multi-label');
    expect(a.plan!.data.classes).toEqual(['garden', 'red', 'white', 'yellow']);
    expect(a.plan!.data.counts).toEqual(b.plan!.data.counts);
    expect(a.plan!.data.images).toEqual({ train: 14, validation: 4, test: 4 });
    for (const part of ['train', 'validation', 'test'] as const)
      expect(
        a.plan!.data.counts[part]!.every((n) => n > 0),
        part,
      ).toBe(true);
  });

  it('stratification puts every label in every part, is seeded, and places each image once', () => {
    const r = rng(3);
    // 400 images, 12 labels of very different frequencies (the rarest has 6 images).
    const sets = Array.from({ length: 400 }, (_, i) =>
      Array.from({ length: 12 }, (_, l) => l).filter((l) => (l === 11 ? i % 67 === 0 : r() < 0.6 / (l + 1))),
    );
    const p = { train: 70, validation: 15, test: 15 };
    const parts = stratify(sets, 12, p, 42);
    expect(stratify(sets, 12, p, 42)).toEqual(parts);
    const { counts, images } = partCounts(sets, 12, parts);
    expect(images.train + images.validation + images.test).toBe(400);
    for (const part of ['train', 'validation', 'test'] as const) expect(counts[part].every((n) => n > 0)).toBe(true);
    // Each label's validation share within 2 images of what the part wants (the label's images × its percent).
    const total = counts.train.map((n, l) => n + counts.validation[l]! + counts.test[l]!);
    for (const [l, n] of total.entries())
      expect(Math.abs(counts.validation[l]! - (n * 15) / 100), `label ${l}`).toBeLessThanOrEqual(2);
  });

  it('diagnostics: a multi-label head on folders, several labels per image under a single-label head, a rare label', () => {
    const codes = (text: string) => at(text).diagnostics.map((d) => [d.code, d.span.start.line, d.message]);
    expect(codes(recipe('../data/flowers', 'head dense(3) multi-label'))).toEqual([
      ['TLR1206', 3, 'the head is multi-label, but ../data/flowers gives one label per image'],
    ]);
    expect(codes(recipe('../data/tags.csv', 'head dense(4)'))).toEqual([
      ['TLR1312', 3, '../data/tags.csv gives several labels per image, but the head is single-label'],
    ]);
    expect(codes(recipe('../data/tags-rare.csv', 'head dense(5) multi-label'))).toEqual([
      [
        'TLR1313',
        4,
        'too few images of `wilted` (1 image: none for validation or test) to reach every part of the split',
      ],
    ]);
  });

  it('`head multi-label` alone keeps the default dense(N); fmt keeps the word after the layers', () => {
    const c = at(recipe('../data/tags.csv', 'head multi-label'));
    expect(c.diagnostics).toEqual([]);
    expect(c.plan!.head.layers).toEqual([{ kind: 'dense', units: 4, activation: 'linear' }]);
    const text = recipe('../data/tags.csv', 'head   dense(64,relu)  dense(4)   multi-label');
    const f = format(text);
    expect(f.ok && f.text).toContain('head dense(64, relu) dense(4) multi-label\n');
  });

  it('tlr diff names the task; the best model is chosen by validation mAP unless the recipe says otherwise', () => {
    const single = at(recipe('../data/flowers', 'head dense(3)')).plan!;
    const multi = at(recipe('../data/tags.csv')).plan!;
    expect(diffPlans(single, multi).changes.find((c) => c.label === 'task')).toMatchObject({
      before: 'single-label',
      after: 'multi-label: any set of labels per image',
    });
    expect([single.save.metric, multi.save.metric, multi.save.mode]).toEqual(['val_accuracy', 'val_map', 'max']);
    // Ties on mAP go to the lower validation loss.
    expect(multi.save.tieBreak).toEqual({ metric: 'val_loss', mode: 'min' });
    const early = at(
      'from resnet18\nhead dense(4) multi-label\ntrain 2 epochs on ../data/tags.csv\n  early stop patience 2 on map\n' +
        'split 60/20/20\nsave best by map\n',
    ).plan!;
    expect([early.save.metric, early.stages[0]!.earlyStop]).toEqual(['val_map', { metric: 'val_map', patience: 2 }]);
    expect(at(`${recipe('../data/tags.csv')}save best by val_accuracy\n`).plan!.save.metric).toBe('val_accuracy');
  });

  it('TLR1614: mAP where the data gives one label per image, in `save best by` and in `early stop on`', () => {
    const c = at(`${recipe('../data/flowers', 'head dense(3)')}  early stop on map\nsave best by val_map\n`);
    expect(c.diagnostics.map((d) => [d.code, d.span.start.line, d.message])).toEqual([
      ['TLR1614', 6, '`map` is a multi-label metric, and the data gives one label per image'],
      ['TLR1614', 7, '`val_map` is a multi-label metric, and the data gives one label per image'],
    ]);
    expect(c.plan).toBeNull();
  });
});

describe('what only single-label data has', () => {
  it('TLR1615: `balance classes` and a head ending in softmax on multi-label data; a sigmoid is the head it means', () => {
    const text = (head: string, extra = '') =>
      `from resnet18\n${head}\ntrain 2 epochs on ../data/tags.csv\n${extra}split 60/20/20\n`;
    const c = at(text('head dense(4, softmax) multi-label', '  balance classes\n'));
    expect(c.diagnostics.map((d) => [d.code, d.span.start.line, d.message])).toEqual([
      ['TLR1615', 2, 'a multi-label head cannot end in softmax: its labels are not exclusive'],
      ['TLR1615', 4, '`balance classes` draws by class, and an image here has several labels'],
    ]);
    const ok = at(text('head dense(4, sigmoid) multi-label', '  class weights auto\n'));
    expect([ok.diagnostics, ok.plan!.stages[0]!.classWeights]).toEqual([[], 'auto']);
  });
});

describe('multi-label data at run time', () => {
  it("the runtime's parts are the plan's: the same stratification over the same rows", async () => {
    const { listSplits, labelsOf } = await import('../../src/runtime/images/dataset.js');
    const plan = at(recipe('../data/tags.csv')).plan!;
    const parts = listSplits(plan);
    for (const part of ['train', 'validation', 'test'] as const) {
      const counts = plan.data.classes.map((_, l) => parts[part].filter((it) => labelsOf(it).includes(l)).length);
      expect(counts, part).toEqual(plan.data.counts[part]);
      expect(parts[part].length, part).toBe(plan.data.images![part]);
    }
  });
});

describe('the generated multi-label set (scripts/multi-label-data.ts)', () => {
  it('2 to 4 different digits an image; recipes/multi-label/digits.tlr plans it with every digit in every part', async () => {
    const { makeDigits } = await import('../../scripts/multi-label-data.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-digits-'));
    await makeDigits(path.join(dir, 'digits'), 200);
    const rows = fs
      .readFileSync(path.join(dir, 'digits', 'labels.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    const sets = rows.map((r) => r.split(',')[1]!.split(';'));
    expect(sets.every((s) => s.length >= 2 && s.length <= 4 && new Set(s).size === s.length)).toBe(true);
    const text = fs.readFileSync(path.resolve(__dirname, '../../recipes/multi-label/digits.tlr'), 'utf8');
    const c = compile(text, { file: path.join(dir, 'digits.tlr') });
    expect(c.diagnostics).toEqual([]);
    expect(c.plan!.data.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const part of ['train', 'validation', 'test'] as const)
      expect(
        c.plan!.data.counts[part]!.every((n) => n > 0),
        part,
      ).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('multi-label in the language server', () => {
  it('hovers `multi-label`, and completes it after a layer', async () => {
    const { openDoc, hover, completion } = await import('../../src/lsp/services.js');
    const text = recipe('../data/tags.csv');
    const doc = openDoc(path.join(VALID, 'ml.tlr'), text);
    const line = text.split('\n').findIndex((l) => l.includes('multi-label'));
    const h = hover(doc, { line, character: text.split('\n')[line]!.indexOf('multi-label') + 2 });
    expect(h?.contents).toMatch(/^\*\*multi-label\*\*: the head gives one sigmoid per label/);
    const data = hover(doc, { line: 3, character: text.split('\n')[3]!.indexOf('tags') + 1 });
    expect(data?.contents).toContain('4 labels (multi-label: counts are images with each label), 14 training');
    const labels = completion(openDoc(path.join(VALID, 'ml.tlr'), 'head dense(4) '), { line: 0, character: 14 });
    expect(labels.map((c) => c.label)).toContain('multi-label');
  });
});

describe('a label short in a part', () => {
  it('TLR1311 names a label with fewer than 5 images in the validation part beside a label with more', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-ml-few-'));
    const rows = Array.from({ length: 30 }, (_, i) => `img-${i}.png,common${i < 6 ? ';rare' : ''}`);
    fs.writeFileSync(path.join(dir, 'tags.csv'), `path,labels\n${rows.join('\n')}\n`);
    const text = 'from resnet18\n  input 64\nhead multi-label\ntrain 2 epochs on ./tags.csv\nsplit 50/50\n';
    const c = compile(text, { file: path.join(dir, 'r.tlr') });
    expect(c.diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([
      [
        'TLR1311',
        'warning',
        "the validation part holds fewer than 5 images of rare (3): one image more or less right moves that label's " +
          'recall there by 33% or more',
      ],
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('multi-label in the playground', () => {
  it("the page's stand-in data is multi-label when the head is, so a multi-label recipe checks there", async () => {
    const { standIn, standInShape } = await import('../../src/playground/stand-in.js');
    const { openDoc } = await import('../../src/lsp/services.js');
    const text = 'from resnet18\nhead dense(5) multi-label\ntrain 2 epochs on ./photos.csv\nsplit 70/15/15\n';
    expect(standInShape(text)).toEqual({ k: 5, multi: true });
    const doc = openDoc('/playground/recipe.tlr', text, { probe: standIn(standInShape(text)), exists: () => 'dir' });
    expect(doc.compiled.diagnostics).toEqual([]);
    expect(doc.compiled.plan?.task).toBe('multi-label');
    expect(standInShape('from resnet18\nhead dense(3)\n')).toEqual({ k: 3, multi: false });
  });
});

describe('hostile label names', () => {
  it('a CSV label holding ESC, a newline, $(…), backticks, <img> or a leading = runs nothing and breaks no output', async () => {
    const { tlr } = await import('../helpers/cli.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-ml-hostile-'));
    const bad = [`a "q" $(touch ${dir}/PWNED) \`id\``, '<img src=x>', '=cmd|x', '\u001b[2Jrare\nline'];
    const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const rows = Array.from({ length: 30 }, (_, i) => `img${i}.png,${quote(bad.slice(0, i < 4 ? 4 : 3).join(';'))}`);
    fs.writeFileSync(path.join(dir, 'tags.csv'), `path,labels\n${rows.join('\n')}\n`);
    fs.writeFileSync(
      path.join(dir, 'r.tlr'),
      'from resnet18\n  input 64\nhead multi-label\ntrain 2 epochs on ./tags.csv\n',
    );
    const plan = tlr('plan', path.join(dir, 'r.tlr'));
    expect(plan.code, plan.err).toBe(0);
    expect(plan.out + plan.err).not.toContain('\u001b');
    expect(plan.out).toContain('\\x1b[2Jrare\\x0aline');
    const json = JSON.parse(tlr('plan', path.join(dir, 'r.tlr'), '--json').out);
    expect(json.data.classes).toEqual([...bad].sort());
    expect(fs.existsSync(path.join(dir, 'PWNED'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
