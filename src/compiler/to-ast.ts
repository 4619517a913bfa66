import type { CstNode, IToken } from 'chevrotain';
import { Missing, SweepBuilder, type Children } from './sweep-ast.js';
import type * as A from './ast.js';
import { MULTI_LABEL } from './ast.js';
import type { Parsed } from './parse.js';
import type { LineIndex } from './source.js';

// The one CST visitor (its helpers and the sweep's layer in sweep-ast.ts). Statements the parser had to recover
// from (missing words) are dropped: their syntax error is already reported.

class AstBuilder extends SweepBuilder {
  constructor(lines: LineIndex) {
    super(lines);
    this.validateVisitor();
  }

  recipe(c: Children): A.Statement[] {
    const out: A.Statement[] = [];
    for (const s of (c['statement'] ?? []) as CstNode[]) {
      try {
        if (!s.recoveredNode) out.push(this.visit(s));
      } catch (e) {
        if (!(e instanceof Missing)) throw e;
      }
    }
    return out;
  }

  statement(c: Children): A.Statement {
    return this.clause(Object.values(c)[0]![0] as CstNode);
  }

  recipeName(c: Children) {
    const t = this.tok(c, 'StringLit');
    return { kind: 'recipe', name: { text: unquote(t.image), span: this.span(t) } };
  }
  seed(c: Children) {
    return { kind: 'seed', value: this.num(this.tok(c, 'NumberLit')) };
  }
  from(c: Children) {
    return { kind: 'from', model: this.name(this.tok(c, 'Identifier')) };
  }
  width(c: Children) {
    return { kind: 'width', value: this.num(this.tok(c, 'NumberLit')) };
  }
  inputSize(c: Children) {
    return { kind: 'input', value: this.num(this.tok(c, 'NumberLit')) };
  }
  features(c: Children) {
    return { kind: 'features', precision: this.name(this.tok(c, 'Identifier')) };
  }
  batch(c: Children) {
    return { kind: 'batch', value: this.num(this.tok(c, 'NumberLit')) };
  }
  optimizer(c: Children) {
    return { kind: 'optimizer', name: this.name(this.tok(c, 'Identifier')) };
  }
  thenStage() {
    return { kind: 'then' };
  }

  weights(c: Children) {
    const id = this.opt(c, 'Identifier'),
      none = this.opt(c, 'None');
    const source = id
      ? { kind: 'name', name: this.name(id) }
      : none
        ? { kind: 'none', span: this.span(none) }
        : { kind: 'location', location: this.visit(this.node(c, 'location')) };
    return { kind: 'weights', source };
  }

  freeze(c: Children) {
    const target: A.FreezeTarget = this.opt(c, 'All')
      ? { kind: 'all' }
      : this.opt(c, 'None')
        ? { kind: 'none' }
        : this.opt(c, 'Until')
          ? { kind: 'until', layer: this.name(this.tok(c, 'Identifier')) }
          : { kind: 'first', count: this.num(this.tok(c, 'NumberLit')) };
    if (target.kind === 'first') this.tok(c, 'Layers');
    return { kind: 'freeze', target };
  }

  unfreeze(c: Children) {
    const target: A.UnfreezeTarget = this.opt(c, 'All')
      ? { kind: 'all' }
      : this.opt(c, 'From')
        ? { kind: 'from', layer: this.name(this.tok(c, 'Identifier')) }
        : { kind: 'last', count: this.num(this.tok(c, 'NumberLit')) };
    if (target.kind === 'last') this.tok(c, 'Layers');
    return { kind: 'unfreeze', target };
  }

  head(c: Children) {
    const layers = ((c['headLayer'] ?? []) as CstNode[]).map((n) => this.visit(n) as A.HeadLayer);
    if (!layers.length) throw new Missing();
    // `multi-label` after the layers says the task; it reads as a word where a layer could stand.
    const last = layers.at(-1)!;
    const task = last.name.text === MULTI_LABEL && !last.parens ? last.name : null;
    return { kind: 'head', layers: task ? layers.slice(0, -1) : layers, task };
  }

  headLayer(c: Children, _p: unknown): A.HeadLayer {
    const parens = !!this.opt(c, 'LParen');
    if (parens) this.tok(c, 'RParen');
    const args = ((c['arg'] ?? []) as CstNode[]).map((n) => this.visit(n) as A.Arg);
    const name = this.name(this.tok(c, 'Identifier'));
    const end = parens ? this.span(this.tok(c, 'RParen')) : name.span;
    return { name, args, parens, span: { start: name.span.start, end: end.end } };
  }

  arg(c: Children): A.Arg {
    const n = this.opt(c, 'NumberLit');
    return n ? this.num(n) : this.name(this.tok(c, 'Identifier'));
  }

  train(c: Children) {
    const n = this.opt(c, 'NumberLit');
    if (n) this.tok(c, 'Epochs');
    const data = c['dataLocation'] ? this.visit(this.node(c, 'dataLocation')) : null;
    if (this.opt(c, 'On') && !data) throw new Missing();
    return { kind: 'train', epochs: n ? this.num(n) : null, data };
  }

  lr(c: Children) {
    const real = (k: string) =>
      ((c[k] ?? []) as IToken[]).filter((t) => !t.isInsertedInRecovery).sort((a, b) => a.startOffset - b.startOffset);
    const nums = real('NumberLit'),
      ids = real('Identifier');
    const dots = this.opt(c, 'DotDot'),
      every = this.opt(c, 'Every'),
      warm = this.opt(c, 'Warmup');
    const after = (t: IToken) => nums.find((n) => n.startOffset > t.startOffset);
    // The value is the first token after `lr`: a number (a range's low end), or a word (`auto`).
    const first = [...nums, ...ids].sort((a, b) => a.startOffset - b.startOffset)[0];
    if (!first) throw new Missing();
    const high = dots ? after(dots) : undefined;
    if (dots && !high) throw new Missing();
    const value: A.Num | A.Name | A.Range =
      nums[0] !== first
        ? this.name(first)
        : high
          ? {
              low: this.num(first),
              high: this.num(high),
              span: { start: this.num(first).span.start, end: this.num(high).span.end },
            }
          : this.num(first);
    const warmNum = warm ? after(warm) : undefined;
    if (warm && !warmNum) throw new Missing();
    const id = ids.find((t) => t !== first) ?? null;
    let schedule: A.Schedule | null = null;
    if (id) {
      const rest = nums.filter((t) => t !== first && t !== high && t !== warmNum);
      const args = every ? rest.filter((t) => t.startOffset < every.startOffset) : rest;
      const everyNum = every ? rest.find((t) => t.startOffset > every.startOffset) : undefined;
      if (every && !everyNum) throw new Missing();
      schedule = {
        name: this.name(id),
        args: args.map((t) => this.num(t)),
        every: everyNum ? this.num(everyNum) : null,
      };
    }
    return { kind: 'lr', value, schedule, warmup: warmNum ? this.num(warmNum) : null };
  }

  earlyStop(c: Children) {
    this.tok(c, 'Stop');
    const p = this.opt(c, 'Patience'),
      on = this.opt(c, 'On');
    return {
      kind: 'earlyStop',
      patience: p ? this.num(this.tok(c, 'NumberLit')) : null,
      metric: on ? this.name(this.tok(c, 'Identifier')) : null,
    };
  }

  batchnorm(c: Children) {
    const mode = this.opt(c, 'Keep') ? 'keep' : 'update';
    const words = ((c['Identifier'] ?? []) as IToken[])
      .filter((t) => !t.isInsertedInRecovery)
      .sort((a, b) => a.startOffset - b.startOffset);
    if (words.length !== 2) throw new Missing();
    return { kind: 'batchnorm', mode, words: words.map((t) => this.name(t)) };
  }

  // `class weights MODE` and `balance MODE`: a word, or `none` (the checker reads it).
  classWeights(c: Children) {
    this.tok(c, 'Weights');
    return { kind: 'classWeights', mode: this.name(this.opt(c, 'Identifier') ?? this.tok(c, 'None')) };
  }
  balance(c: Children) {
    return { kind: 'balance', mode: this.name(this.opt(c, 'Identifier') ?? this.tok(c, 'None')) };
  }

  split(c: Children) {
    const t = this.tok(c, 'Ratio');
    let offset = t.startOffset;
    const parts = t.image.split('/').map((p) => {
      const n = { value: Number(p), text: p, span: this.lines.span(offset, offset + p.length) };
      offset += p.length + 1;
      return n;
    });
    return { kind: 'split', parts };
  }

  validate(c: Children) {
    this.tok(c, 'On');
    return { kind: 'validate', data: this.visit(this.node(c, 'dataLocation')) };
  }
  test(c: Children) {
    this.tok(c, 'On');
    return { kind: 'test', data: this.visit(this.node(c, 'dataLocation')) };
  }

  augment(c: Children) {
    const items = ((c['augmentation'] ?? []) as CstNode[]).map((n) => this.visit(n) as A.Augmentation);
    if (!items.length) throw new Missing();
    return { kind: 'augment', items };
  }

  augmentation(c: Children): A.Augmentation {
    const name = this.name(this.tok(c, 'Identifier'));
    const args = ((c['arg'] ?? []) as CstNode[]).map((n) => this.visit(n) as A.Arg);
    const last = args[args.length - 1];
    return { name, args, span: { start: name.span.start, end: (last ?? name).span.end } };
  }

  save(c: Children) {
    const best = this.opt(c, 'Best');
    if (best) this.tok(c, 'By');
    return {
      kind: 'save',
      best: best ? this.name(this.tok(c, 'Identifier')) : null,
      last: !!this.opt(c, 'Last'),
      to: this.opt(c, 'To') ? this.visit(this.node(c, 'location')) : null,
    };
  }

  exportModel(c: Children) {
    const option = this.opt(c, 'Identifier', 1);
    return { kind: 'export', format: this.name(this.tok(c, 'Identifier')), option: option ? this.name(option) : null };
  }

  dataLocation(c: Children): A.Location {
    if (c['location']) return this.visit(this.node(c, 'location'));
    const t = this.tok(c, 'Identifier');
    return { text: t.image, quoted: false, url: false, span: this.span(t) };
  }

  location(c: Children): A.Location {
    const t = this.opt(c, 'PathLit') ?? this.opt(c, 'RelPath') ?? this.opt(c, 'Url') ?? this.tok(c, 'StringLit');
    const quoted = t.tokenType.name === 'StringLit';
    const text = quoted ? unquote(t.image) : t.image;
    return { text, quoted, url: /^[a-z][a-z0-9+.-]*:\/\//.test(text), span: this.span(t) };
  }
}

/** A quoted string token's text without its quotes and escapes. */
export const unquote = (s: string): string => s.slice(1, -1).replace(/\\(.)/g, '$1');

/** CST to AST. */
export function toAst(parsed: Parsed): A.Ast {
  const statements = new AstBuilder(parsed.lines).visit(parsed.cst) as A.Statement[];
  return { statements, comments: parsed.comments };
}

/** The sweep layer's CST (`parser.sweep()`) to its clauses and lists. */
export const toSweepSyntax = (cst: CstNode, lines: LineIndex): A.SweepSyntax =>
  new AstBuilder(lines).visit(cst) as A.SweepSyntax;
