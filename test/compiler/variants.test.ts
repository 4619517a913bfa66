import { describe, expect, it } from 'vitest';
import { compile, expand, parseTokens, toAst } from '../../src/compiler/index.js';

// Variants: `{a, b}` lists expand to the cross product before parsing; ids stay when the recipe is
// reordered or reformatted; list mistakes and variant-only errors are reported in the recipe's text.

const codes = (text: string) => expand(text).diagnostics.map((d) => d.code);

describe('expand', () => {
  it('makes the cross product, the last list varying fastest, each text with one alternative per list', () => {
    const e = expand(
      'from {resnet18, mobilenet_v2}\nhead {dense(2), dense(64) dense(2)}\ntrain 1 epoch on ./d lr {1e-3, 3e-4}\n',
    );
    expect(e.diagnostics).toEqual([]);
    expect(e.groups.map((g) => [g.slot, g.alternatives.map((a) => a.text)])).toEqual([
      ['from', ['resnet18', 'mobilenet_v2']],
      ['head', ['dense(2)', 'dense(64) dense(2)']],
      ['lr', ['1e-3', '3e-4']],
    ]);
    expect(e.variants).toHaveLength(8);
    expect(e.variants[1]!.text).toBe('from resnet18\nhead dense(2)\ntrain 1 epoch on ./d lr 3e-4\n');
    expect(e.variants[7]!.name).toBe('from mobilenet_v2, head dense(64) dense(2), lr 3e-4');
    expect(new Set(e.variants.map((v) => v.id)).size).toBe(8);
  });

  it('keeps ids when lists and clauses are reordered or reformatted', () => {
    const a = expand('from {resnet18, vgg16}\ntrain 1 epoch on ./d\nlr {1e-3, 3e-4}\n').variants;
    const b = expand('from {vgg16,resnet18}   # nets\nlr   { 3e-4 ,1e-3 }\ntrain 1 epoch on ./d\n').variants;
    const ids = (vs: typeof a) => Object.fromEntries(vs.map((v) => [v.name, v.id]));
    expect(ids(b)).toEqual(ids(a));
  });

  it("reads a variant from the recipe's own tokens, so its spans are the recipe's", () => {
    const text = 'from {resnet18, mobilenet_v2} input {32, 64}\n';
    const v = expand(text).variants[3]!; // mobilenet_v2, 64
    expect(v.text).toBe('from mobilenet_v2 input 64\n');
    expect(v.tokens.map((t) => [t.image, text.slice(t.startOffset, t.endOffset! + 1)])).toEqual(
      ['from', 'mobilenet_v2', 'input', '64'].map((w) => [w, w]),
    );
    const ast = toAst(parseTokens(expand(text).lexed, v.tokens));
    const input = ast.statements.find((s) => s.kind === 'input')!;
    expect(text.slice(input.span.start.offset, input.span.end.offset)).toBe('input {32, 64');
  });

  it.each([
    ['lr{1e-3, 3e-4}', 'lr1e-3'],
    ['freeze until block{3, 9}', '{block3, block9}'],
    ['train 1 epoch on ./data/{a, b}', '{./data/a, ./data/b}'],
  ])('%j: a list joined to a word is TLR0214, with the words to list instead', (text, hint) => {
    const d = expand(text).diagnostics.find((x) => x.code === 'TLR0214');
    expect(d?.hints.join(' ')).toContain(hint);
  });

  // Each sweep mistake at its place: [recipe, code, where it starts (line:column), the text it covers].
  it.each([
    ['from resnet18\nlr {1e-3, 3e-4\n', 'TLR0201', '2:4', '{'],
    ['lr {1e-3, , 3e-4}\n', 'TLR0202', '1:10', ' ,'],
    ['head {dense(2), {dense(4)}}\n', 'TLR0203', '1:17', '{'],
    ['from resnet18\n  lr {1e-3, 0.001}\n', 'TLR0204', '2:13', '0.001'],
    ['batch {8} # one\n', 'TLR0205', '1:8', '8'],
    ['from resnet18 lr 1e-3 }\n', 'TLR0001', '1:23', '}'],
    ['from {a, b}\n\n  keep best 0 after 2 epochs # none\n', 'TLR0208', '3:3', 'keep best 0 after 2 epochs'],
    ['from {a, b}\nkeep best 2 after 1 epoch\n', 'TLR0209', '2:1', 'keep best 2 after 1 epoch'],
    ['from {a, b}\nkeep best 1 before 1 epoch\n', 'TLR0101', '2:13', 'before'],
    ['from {a, b} lr {1, 2}\n   sample 2.5\n', 'TLR0210', '2:4', 'sample 2.5'],
    ['from {a, b}\nvary together from, lr # x\n', 'TLR0210', '2:1', 'vary together from, lr'],
    ['from {a, b} input {1, 2, 3}\nvary together from, input\n', 'TLR0211', '2:1', 'vary together from, input'],
    ['from {a, b} lr {1, 2}\nsample 3\nsample 2\n', 'TLR0215', '3:1', 'sample 2'],
    ['freeze until block{3, 9}\n', 'TLR0214', '1:19', '{3, 9}'],
  ])('%j: %s at %s', (text, code, at, covered) => {
    const d = expand(text).diagnostics.find((x) => x.code === code);
    expect(d, JSON.stringify(expand(text).diagnostics.map((x) => x.code))).toBeDefined();
    expect(`${d!.span.start.line}:${d!.span.start.column}`).toBe(at);
    expect(text.slice(d!.span.start.offset, d!.span.end.offset)).toBe(covered);
  });

  it('reads braces and commas in strings and comments as theirs, not as lists', () => {
    const e = expand('recipe "a {b, c}" # {d, e}\nfrom resnet18\n');
    expect(e.groups).toEqual([]);
    expect(e.variants).toHaveLength(1);
  });

  it('skips braces in comments and strings, and splits at commas outside parentheses', () => {
    const e = expand('recipe "a {b}" # {c, d}\nhead {dense(64, relu) dense(2), dense(2)}\n');
    expect(e.groups).toHaveLength(1);
    expect(e.groups[0]!.alternatives.map((a) => a.text)).toEqual(['dense(64, relu) dense(2)', 'dense(2)']);
  });

  it("keep best N after K epochs is the sweep's: blanked out of every variant, checked against the lists", () => {
    const text =
      'from resnet18\ntrain 9 epochs on ./d\n  lr {1e-3, 3e-4, 1e-4}\nkeep best 1 after 2 epochs # halving\n';
    const e = expand(text);
    expect(e.keep).toEqual({ best: 1, after: 2 });
    expect(e.diagnostics).toEqual([]);
    expect(e.variants[0]!.text).not.toMatch(/keep/);
    expect(e.variants[0]!.text).toHaveLength(text.length - '{1e-3, 3e-4, 1e-4}'.length + '1e-3'.length);
    expect(codes('from resnet18\nlr {1e-3, 3e-4}\nkeep best 2 after 1 epoch\n')).toEqual(['TLR0209']);
    expect(codes('from resnet18\nlr 1e-3\nkeep best 1 after 2 epochs\n')).toEqual(['TLR0208']);
    expect(codes('from resnet18\nlr {1e-3, 3e-4}\nkeep best 0 after 2 epochs\n')).toEqual(['TLR0208']);
    // `keep batchnorm statistics` is the recipe's own statement, not the sweep's.
    expect(expand('from resnet18\nkeep batchnorm statistics\n').keep).toBeNull();
  });

  it('vary together: the lists named take their alternatives side by side, one axis of the grid', () => {
    const text =
      'from {resnet18, mobilenet_v2, vgg16} input {224, 160, 128}\nvary together from, input  # pairs\n' +
      'train 1 epoch on ./d lr {1e-3, 3e-4}\n';
    const e = expand(text);
    expect(e.diagnostics).toEqual([]);
    expect(e.together).toEqual([[0, 1]]);
    expect(e.variants.map((v) => v.name)).toEqual([
      'from resnet18, input 224, lr 1e-3',
      'from resnet18, input 224, lr 3e-4',
      'from mobilenet_v2, input 160, lr 1e-3',
      'from mobilenet_v2, input 160, lr 3e-4',
      'from vgg16, input 128, lr 1e-3',
      'from vgg16, input 128, lr 3e-4',
    ]);
    // The line is the sweep's: blanked out of each variant (offsets kept), its comment left.
    expect(e.variants[0]!.text).toMatch(/^from resnet18 input 224\n +# pairs\ntrain/);
    // Its ids are the plain grid's ids for the same choices.
    const grid = expand(text.replace(/vary together.*\n/, '\n')).variants;
    for (const v of e.variants) expect(grid.find((g) => g.name === v.name)!.id).toBe(v.id);
  });

  it.each([
    ['from {a, b} input {1, 2, 3}\nvary together from, input\n', 'TLR0211', /the lists have 2, 3 alternatives/],
    [
      'from {a, b} input {1, 2}\nvary together from, head\n',
      'TLR0210',
      /no list varies head \(lists vary: from, input\)/,
    ],
    ['from {a, b} input {1, 2}\nvary together from\n', 'TLR0210', /at least two lists/],
    ['from a\nvary together from, input\n', 'TLR0210', /belong to a sweep/],
    ['from {a, b} lr {1, 2}\nsample 4\n', 'TLR0212', /sample 4 of 4 variants keeps them all/],
    ['from {a, b} lr {1, 2}\nsample 0\n', 'TLR0210', /sample 0: sample takes a whole number from 1/],
  ])('%j: %s', (text, code, message) => {
    const d = expand(text).diagnostics.find((x) => x.code === code);
    expect(d?.message).toMatch(message);
    expect(d!.span.start.line).toBe(2);
  });

  it('sample N: the N variants with the first ids, the same whatever the order or layout', () => {
    const a = expand('from {resnet18, vgg16, mobilenet_v2}\nlr {1e-3, 3e-4, 1e-4}\nsample 4\n');
    const b = expand('lr {1e-4,3e-4, 1e-3}\nsample   4   # a third\nfrom {mobilenet_v2, vgg16, resnet18}\n');
    expect(a.sample).toEqual({ n: 4, of: 9 });
    expect(a.variants).toHaveLength(4);
    expect(new Set(b.variants.map((v) => v.id))).toEqual(new Set(a.variants.map((v) => v.id)));
    const all = expand('from {resnet18, vgg16, mobilenet_v2}\nlr {1e-3, 3e-4, 1e-4}\n').variants.map((v) => v.id);
    expect(a.variants.map((v) => v.id).sort()).toEqual(all.sort().slice(0, 4));
  });

  it('refuses more than 1,000 variants', () => {
    const list = `{${Array.from({ length: 40 }, (_, i) => i + 1).join(', ')}}`;
    expect(codes(`batch ${list}\nseed ${list}`)).toEqual(['TLR0207']);
  });
});

describe('compile with variants', () => {
  const recipe = 'from resnet18 input 64\nfreeze until {block3, block9}\nhead dense(2)\ntrain 1 epoch on ./nowhere\n';

  it('a command that takes one recipe refuses a sweep, saying which commands take it', () => {
    const c = compile(recipe, { file: '/tmp/r.tlr' });
    expect(c.plan).toBeNull();
    expect(c.diagnostics.map((d) => d.code)).toContain('TLR0206');
  });

  it("names the variant of an error that only it has, at the alternative's place in the recipe", () => {
    const c = compile(recipe, { file: '/tmp/r.tlr', sweeps: true });
    const own = c.diagnostics.filter((d) => d.message.startsWith('variant '));
    expect(own.length).toBeGreaterThan(0);
    expect(own[0]!.message).toMatch(/^variant [0-9a-f]{8} \(freeze until block9\): /);
    expect(recipe.slice(own[0]!.span.start.offset, own[0]!.span.end.offset)).toBe('block9');
    // The missing data folder is every variant's problem: reported once, without a variant.
    const shared = c.diagnostics.filter((d) => /nowhere/.test(d.message));
    expect(shared.length).toBe(1);
    expect(shared[0]!.message).not.toMatch(/^variant /);
  });
});
