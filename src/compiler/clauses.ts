import { lrText, MULTI_LABEL, type Statement, type StatementKind } from './ast.js';
import { arg, headLayer, layers, loc, plural, quote } from './canonical.js';

// The recipe's clauses, one row each, in their canonical order: how a clause starts, its usage
// line (the parser's hint inside a broken statement), where it may appear (recipe-wide or per
// stage: the checker groups by it), where `tlr fmt` lays it out, and its canonical text. The
// parser, the checker's grouping and the formatter all read this table. Adding a clause: its
// grammar rule (grammar.ts), its AST node (ast.ts, to-ast.ts), a row here, and what it means (check/).

type Of<K extends StatementKind> = Extract<Statement, { kind: K }>;

/** Where `tlr fmt` puts a clause: each section is separated from the next by a blank line. */
export type Layout =
  | 'name'
  | 'model'
  | 'model-setting'
  | 'freeze'
  | 'head'
  | 'train'
  | 'stage-setting'
  | 'then'
  | 'data'
  | 'save'
  | 'sweep';

/** The checks of check/checks.ts, in the order they run: the part of a checked recipe each one makes. */
export type CheckName =
  | 'recipe'
  | 'model'
  | 'weights'
  | 'frozen'
  | 'data'
  | 'head'
  | 'stages'
  | 'augment'
  | 'features'
  | 'save'
  | 'seed'
  | 'exports';

export interface Clause<K extends StatementKind> {
  /** The words it starts with. */
  readonly words: string;
  /** How it is written, for a syntax error inside it. */
  readonly usage: string;
  /** Its grammar rule (grammar.ts). */
  readonly rule: string;
  /** Once per recipe, once per stage (a later stage starts at `then`), or the sweep's (read with its lists). */
  readonly scope: 'recipe' | 'stage' | 'sweep';
  /** The check that reads it (check/checks.ts): what it means is decided there; null: compiler/sweep.ts does. */
  readonly check: CheckName | null;
  readonly layout: Layout;
  /** Its canonical one-line text. */
  render(s: Of<K>): string;
}

const AUGMENT_USAGE = 'augment flip, rotate 15, zoom 0.1, brightness 0.2';
const HEAD_USAGE = 'head dropout(0.2) dense(128, relu) dense(N)';

/** Every clause, in canonical order; the mapped type makes a statement kind without a row a type error. */
export const CLAUSES = {
  recipe: {
    words: 'recipe',
    usage: 'recipe "NAME"',
    rule: 'recipeName',
    scope: 'recipe',
    check: 'recipe',
    layout: 'name',
    render: (s) => `recipe ${quote(s.name.text)}`,
  },
  seed: {
    words: 'seed',
    usage: 'seed N',
    rule: 'seed',
    scope: 'recipe',
    check: 'seed',
    layout: 'name',
    render: (s) => `seed ${s.value.text}`,
  },
  from: {
    words: 'from',
    usage: 'from MODEL (`tlr models` lists them)',
    rule: 'from',
    scope: 'recipe',
    check: 'model',
    layout: 'model',
    render: (s) => `from ${s.model.text}`,
  },
  weights: {
    words: 'weights',
    usage: 'weights imagenet | none | ./file.safetensors | ./model.json | https://…',
    rule: 'weights',
    scope: 'recipe',
    check: 'weights',
    layout: 'model-setting',
    render: (s) => {
      const src = s.source;
      return `weights ${src.kind === 'name' ? src.name.text : src.kind === 'none' ? 'none' : loc(src.location)}`;
    },
  },
  width: {
    words: 'width',
    usage: 'width W (mobilenet_v1: 0.25 0.5 0.75 1; mobilenet_v2: 0.35 0.5 0.75 1 1.4)',
    rule: 'width',
    scope: 'recipe',
    check: 'model',
    layout: 'model-setting',
    render: (s) => `width ${s.value.text}`,
  },
  input: {
    words: 'input',
    usage: 'input PIXELS',
    rule: 'inputSize',
    scope: 'recipe',
    check: 'model',
    layout: 'model-setting',
    render: (s) => `input ${s.value.text}`,
  },
  features: {
    words: 'features',
    usage: 'features int8 | features float',
    rule: 'features',
    scope: 'recipe',
    check: 'features',
    layout: 'model-setting',
    render: (s) => `features ${s.precision.text}`,
  },
  freeze: {
    words: 'freeze',
    usage: 'freeze all | freeze none | freeze until LAYER | freeze first N layers',
    rule: 'freeze',
    scope: 'stage',
    check: 'frozen',
    layout: 'freeze',
    render: ({ target: t }) => {
      const what =
        t.kind === 'until' ? `until ${t.layer.text}` : t.kind === 'first' ? `first ${layers(t.count)}` : t.kind;
      return `freeze ${what}`;
    },
  },
  unfreeze: {
    words: 'unfreeze',
    usage: 'unfreeze all | unfreeze from LAYER | unfreeze last N layers',
    rule: 'unfreeze',
    scope: 'stage',
    check: 'frozen',
    layout: 'freeze',
    render: ({ target: t }) =>
      `unfreeze ${t.kind === 'from' ? `from ${t.layer.text}` : t.kind === 'last' ? `last ${layers(t.count)}` : 'all'}`,
  },
  head: {
    words: 'head',
    usage: HEAD_USAGE,
    rule: 'head',
    scope: 'recipe',
    check: 'head',
    layout: 'head',
    render: (s) => `head ${[...s.layers.map(headLayer), ...(s.task ? [MULTI_LABEL] : [])].join(' ')}`,
  },
  train: {
    words: 'train',
    usage: 'train [N epochs] on ./data',
    rule: 'train',
    scope: 'stage',
    check: 'stages',
    layout: 'train',
    render: (s) =>
      ['train', ...(s.epochs ? [plural(s.epochs, 'epoch')] : []), ...(s.data ? ['on', loc(s.data)] : [])].join(' '),
  },
  batch: {
    words: 'batch',
    usage: 'batch N',
    rule: 'batch',
    scope: 'stage',
    check: 'stages',
    layout: 'stage-setting',
    render: (s) => `batch ${s.value.text}`,
  },
  optimizer: {
    words: 'optimizer',
    usage: 'optimizer adam | sgd | rmsprop',
    rule: 'optimizer',
    scope: 'stage',
    check: 'stages',
    layout: 'stage-setting',
    render: (s) => `optimizer ${s.name.text}`,
  },
  lr: {
    words: 'lr',
    usage: 'lr 0.001 | LOW..HIGH | auto [constant | cosine | step FACTOR every N | one-cycle] [warmup N]',
    rule: 'lr',
    scope: 'stage',
    check: 'stages',
    layout: 'stage-setting',
    render: ({ value, schedule: sch, warmup }) =>
      [
        'lr',
        lrText(value),
        ...(sch
          ? [sch.name.text, ...sch.args.map((a) => a.text), ...(sch.every ? ['every', sch.every.text] : [])]
          : []),
        ...(warmup ? ['warmup', warmup.text] : []),
      ].join(' '),
  },
  earlyStop: {
    words: 'early stop',
    usage: 'early stop [patience N] [on METRIC]',
    rule: 'earlyStop',
    scope: 'stage',
    check: 'stages',
    layout: 'stage-setting',
    render: (s) =>
      [
        'early stop',
        ...(s.patience ? ['patience', s.patience.text] : []),
        ...(s.metric ? ['on', s.metric.text] : []),
      ].join(' '),
  },
  classWeights: {
    words: 'class weights',
    usage: 'class weights auto | none',
    rule: 'classWeights',
    scope: 'stage',
    check: 'stages',
    layout: 'stage-setting',
    render: (s) => `class weights ${s.mode.text}`,
  },
  balance: {
    words: 'balance classes',
    usage: 'balance classes | none',
    rule: 'balance',
    scope: 'stage',
    check: 'stages',
    layout: 'stage-setting',
    render: (s) => `balance ${s.mode.text}`,
  },
  batchnorm: {
    words: 'keep batchnorm statistics',
    usage: 'keep batchnorm statistics | update batchnorm statistics',
    rule: 'batchnorm',
    scope: 'stage',
    check: 'stages',
    layout: 'stage-setting',
    render: (s) => [s.mode, ...s.words.map((w) => w.text)].join(' '),
  },
  then: {
    words: 'then',
    usage: 'then unfreeze from LAYER train N epochs',
    rule: 'thenStage',
    scope: 'stage',
    check: 'stages',
    layout: 'then',
    render: () => 'then',
  },
  split: {
    words: 'split',
    usage: 'split 80/20 or split 80/10/10 (no spaces around /)',
    rule: 'split',
    scope: 'recipe',
    check: 'data',
    layout: 'data',
    render: (s) => `split ${s.parts.map((p) => p.text).join('/')}`,
  },
  validate: {
    words: 'validate on',
    usage: 'validate on ./folder',
    rule: 'validate',
    scope: 'recipe',
    check: 'data',
    layout: 'data',
    render: (s) => `validate on ${loc(s.data)}`,
  },
  test: {
    words: 'test on',
    usage: 'test on ./folder',
    rule: 'test',
    scope: 'recipe',
    check: 'data',
    layout: 'data',
    render: (s) => `test on ${loc(s.data)}`,
  },
  augment: {
    words: 'augment',
    usage: AUGMENT_USAGE,
    rule: 'augment',
    scope: 'recipe',
    check: 'augment',
    layout: 'data',
    render: (s) => `augment ${s.items.map((a) => [a.name.text, ...a.args.map(arg)].join(' ')).join(', ')}`,
  },
  save: {
    words: 'save',
    usage: 'save [best by METRIC | last] [to ./folder]',
    rule: 'save',
    scope: 'recipe',
    check: 'save',
    layout: 'save',
    render: (s) =>
      [
        'save',
        ...(s.best ? ['best by', s.best.text] : s.last ? ['last'] : []),
        ...(s.to ? ['to', loc(s.to)] : []),
      ].join(' '),
  },
  export: {
    words: 'export',
    usage: 'export onnx [softmax]',
    rule: 'exportModel',
    scope: 'recipe',
    check: 'exports',
    layout: 'save',
    render: (s) => ['export', s.format.text, ...(s.option ? [s.option.text] : [])].join(' '),
  },
  keepBest: {
    words: 'keep best',
    usage: 'keep best N after K epochs',
    rule: 'keepBest',
    scope: 'sweep',
    check: null,
    layout: 'sweep',
    render: (s) => `keep best ${s.best.text} after ${plural(s.after, 'epoch')}`,
  },
  varyTogether: {
    words: 'vary together',
    usage: 'vary together SLOT, SLOT (the words before the lists: from, input, lr, freeze until…)',
    rule: 'varyTogether',
    scope: 'sweep',
    check: null,
    layout: 'sweep',
    render: (s) => `vary together ${s.slots.map((n) => n.text).join(', ')}`,
  },
  sample: {
    words: 'sample',
    usage: 'sample N',
    rule: 'sample',
    scope: 'sweep',
    check: null,
    layout: 'sweep',
    render: (s) => `sample ${s.count?.text ?? ''}`.trim(),
  },
} as const satisfies { readonly [K in StatementKind]: Clause<K> };

/** The clauses that belong to a stage (`then` starts the next one). */
export type StageKind = {
  [K in StatementKind]: (typeof CLAUSES)[K]['scope'] extends 'stage' ? K : never;
}[StatementKind];
/** The sweep's own clauses. */
export type SweepKind = {
  [K in StatementKind]: (typeof CLAUSES)[K]['scope'] extends 'sweep' ? K : never;
}[StatementKind];
/** The clauses given once per recipe. */
export type RecipeKind = Exclude<StatementKind, StageKind | SweepKind>;

export const KINDS = Object.keys(CLAUSES) as StatementKind[];

/** The kinds laid out in `layout`, in canonical order. */
export const kindsIn = (layout: Layout): StatementKind[] => KINDS.filter((k) => CLAUSES[k].layout === layout);

/** The kinds of a scope, in canonical order. */
export const kindsOf = (scope: 'recipe' | 'stage' | 'sweep'): StatementKind[] =>
  KINDS.filter((k) => CLAUSES[k].scope === scope && k !== 'then');

/** Usage lines by grammar rule: every clause's, and those of the parts inside clauses. */
export const USAGE: Readonly<Record<string, string>> = {
  ...Object.fromEntries(KINDS.map((k) => [CLAUSES[k].rule, CLAUSES[k].usage])),
  headLayer: HEAD_USAGE,
  augmentation: AUGMENT_USAGE,
  location: 'a path like ./images, or "a path with spaces"',
  dataLocation: 'a folder like ./images (or images), or "a path with spaces"',
};

/** The clauses a variant's statements can be (the sweep's own are read before, with the lists). */
export const STATEMENT_KINDS = KINDS.filter((k) => CLAUSES[k].scope !== 'sweep');

/** A statement's canonical one-line text. */
export const render = (s: Statement): string => (CLAUSES[s.kind].render as (s: Statement) => string)(s);
