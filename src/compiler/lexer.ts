import { createToken, Lexer, type TokenType } from 'chevrotain';

// Words are keywords only where the grammar needs them; names of models, layers, optimizers,
// schedules, activations and metrics are plain identifiers that the checker validates.

/**
 * Every token a list of alternatives can hold as it is: all but braces, commas and parentheses (the sweep's rules in
 * grammar.ts read those). A category, so that one rule matches them all.
 */
export const Plain = createToken({ name: 'Plain', pattern: Lexer.NA });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_.-]*/, categories: [Plain] });

const kw = (word: string, pattern: RegExp = new RegExp(word)): TokenType =>
  createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern,
    longer_alt: Identifier,
    categories: [Keyword, Plain],
  });

export const Keyword = createToken({ name: 'Keyword', pattern: Lexer.NA });
export const RecipeKw = kw('recipe');
export const Seed = kw('seed');
export const From = kw('from');
export const Weights = kw('weights');
export const Width = kw('width');
export const Input = kw('input');
export const Freeze = kw('freeze');
export const Unfreeze = kw('unfreeze');
export const Until = kw('until');
export const All = kw('all');
export const None = kw('none');
export const First = kw('first');
export const Last = kw('last');
export const Layers = kw('layers', /layers?/);
export const Head = kw('head');
export const Train = kw('train');
export const Epochs = kw('epochs', /epochs?/);
export const On = kw('on');
export const Batch = kw('batch');
export const Optimizer = kw('optimizer');
export const Lr = kw('lr');
export const Every = kw('every');
export const Early = kw('early');
export const Stop = kw('stop');
export const Patience = kw('patience');
export const Class = kw('class');
export const Balance = kw('balance');
export const Features = kw('features');
export const Then = kw('then');
export const Split = kw('split');
export const Validate = kw('validate');
export const Test = kw('test');
export const Augment = kw('augment');
export const Save = kw('save');
export const ExportKw = kw('export');
export const Best = kw('best');
export const By = kw('by');
export const To = kw('to');
export const Keep = kw('keep');
export const Update = kw('update');
export const Warmup = kw('warmup');

export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: 'comments' });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED });
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/, categories: [Plain] });
export const Ratio = createToken({ name: 'Ratio', pattern: /\d+(?:\/\d+)+/, categories: [Plain] });
// `1..3` is a range, not `1.` and `.3`: a number's point is never the first of two.
export const NumberLit = createToken({
  name: 'NumberLit',
  pattern: /(?:\d+(?:\.(?!\.)\d*)?|\.\d+)(?:[eE][+-]?\d+)?/,
  categories: [Plain],
});
/** `..` between two numbers (`lr 1e-5..1e-3`); `..` before anything else is a path. */
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\.(?=[ \t]*\.?\d)/, categories: [Plain] });
export const Url = createToken({ name: 'Url', pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s"#{}]+/, categories: [Plain] });
export const PathLit = createToken({
  name: 'PathLit',
  pattern: /(?:\.{1,2}|~)(?:\/[^\s"#,(){}]*)?|\/[^\s"#,(){}]*/,
  categories: [Plain],
});
/** A relative path without ./ (`data/train`): a name followed by at least one /part. */
export const RelPath = createToken({
  name: 'RelPath',
  pattern: /[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[^\s"#,(){}]*)+/,
  categories: [Plain],
});
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
/** A list of alternatives, `{a, b}`, which makes the recipe a sweep; no path or URL holds a brace. */
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });

export const KEYWORDS = [
  RecipeKw,
  Seed,
  From,
  Weights,
  Width,
  Input,
  Freeze,
  Unfreeze,
  Until,
  All,
  None,
  First,
  Last,
  Layers,
  Head,
  Train,
  Epochs,
  On,
  Batch,
  Optimizer,
  Lr,
  Every,
  Early,
  Stop,
  Patience,
  Class,
  Balance,
  Features,
  Then,
  Split,
  Validate,
  Test,
  Augment,
  Save,
  Best,
  By,
  To,
  ExportKw,
  Keep,
  Update,
  Warmup,
];

// Order matters: a URL before identifiers (https://…), ratios before numbers (80/20), numbers
// before paths (.5 versus ./x), keywords before identifiers.
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLit,
  Url,
  Ratio,
  RelPath,
  NumberLit,
  DotDot,
  PathLit,
  LParen,
  RParen,
  Comma,
  LBrace,
  RBrace,
  Keyword,
  ...KEYWORDS,
  Identifier,
];

export const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
