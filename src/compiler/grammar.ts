import { CstParser, type CstNode, type IToken } from 'chevrotain';
import { CLAUSES, STATEMENT_KINDS } from './clauses.js';
import { goesOn, nextOnLineOf, startsLine } from './gates.js';
import { messages } from './syntax-messages.js';
import * as T from './lexer.js';

// The grammar only recognises; it builds a CST and nothing else. It is deliberately loose (any
// statement, in any order, any number of times): the checker says what is wrong, and better.

/** The Chevrotain grammar of recipes; `npm run grammar` draws its diagrams. */
export class RecipeParser extends CstParser {
  constructor() {
    super(T.allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: 'full',
      errorMessageProvider: messages,
      maxLookahead: 3,
    });
    this.performSelfAnalysis();
  }

  recipe = this.RULE('recipe', () => {
    this.MANY(() => this.SUBRULE(this.statement));
  });

  // One alternative per row of the clause table, in its order.
  statement = this.RULE('statement', () => {
    this.OR(STATEMENT_KINDS.map((k) => ({ ALT: () => this.SUBRULE(this.ruleOf(CLAUSES[k].rule)) })));
  });

  private ruleOf(name: string): () => CstNode {
    return (this as unknown as Record<string, () => CstNode>)[name]!;
  }

  recipeName = this.RULE('recipeName', () => {
    this.CONSUME(T.RecipeKw);
    this.CONSUME(T.StringLit);
  });

  seed = this.RULE('seed', () => {
    this.CONSUME(T.Seed);
    this.CONSUME(T.NumberLit);
  });

  from = this.RULE('from', () => {
    this.CONSUME(T.From);
    this.CONSUME(T.Identifier);
  });

  weights = this.RULE('weights', () => {
    this.CONSUME(T.Weights);
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.CONSUME(T.None) },
      { ALT: () => this.SUBRULE(this.location) },
    ]);
  });

  width = this.RULE('width', () => {
    this.CONSUME(T.Width);
    this.CONSUME(T.NumberLit);
  });

  inputSize = this.RULE('inputSize', () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.NumberLit);
  });

  freeze = this.RULE('freeze', () => {
    this.CONSUME(T.Freeze);
    this.OR([
      { ALT: () => this.CONSUME(T.All) },
      { ALT: () => this.CONSUME(T.None) },
      {
        ALT: () => {
          this.CONSUME(T.Until);
          this.CONSUME(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.First);
          this.CONSUME(T.NumberLit);
          this.CONSUME(T.Layers);
        },
      },
    ]);
  });

  unfreeze = this.RULE('unfreeze', () => {
    this.CONSUME(T.Unfreeze);
    this.OR([
      { ALT: () => this.CONSUME(T.All) },
      {
        ALT: () => {
          this.CONSUME(T.From);
          this.CONSUME(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Last);
          this.CONSUME(T.NumberLit);
          this.CONSUME(T.Layers);
        },
      },
    ]);
  });

  head = this.RULE('head', () => {
    this.CONSUME(T.Head);
    this.AT_LEAST_ONE({ GATE: () => this.goesOn(), DEF: () => this.SUBRULE(this.headLayer) });
  });

  headLayer = this.RULE('headLayer', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
      this.CONSUME(T.RParen);
    });
  });

  arg = this.RULE('arg', () => {
    this.OR([{ ALT: () => this.CONSUME(T.NumberLit) }, { ALT: () => this.CONSUME(T.Identifier) }]);
  });

  train = this.RULE('train', () => {
    this.CONSUME(T.Train);
    // The count may be left out where the checker has a default (a head on cached features).
    this.OPTION2(() => {
      this.CONSUME(T.NumberLit);
      this.CONSUME(T.Epochs);
    });
    this.OPTION(() => {
      this.CONSUME(T.On);
      this.SUBRULE(this.dataLocation);
    });
  });

  batch = this.RULE('batch', () => {
    this.CONSUME(T.Batch);
    this.CONSUME(T.NumberLit);
  });

  optimizer = this.RULE('optimizer', () => {
    this.CONSUME(T.Optimizer);
    this.CONSUME(T.Identifier);
  });

  lr = this.RULE('lr', () => {
    this.CONSUME(T.Lr);
    // A rate, a range of rates (`1e-5..1e-3`, spread over the trained blocks), or `auto` (the
    // checker accepts no other word); then a schedule and a warm-up, both optional.
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.NumberLit);
          this.OPTION3(() => {
            this.CONSUME(T.DotDot);
            this.CONSUME4(T.NumberLit);
          });
        },
      },
      { ALT: () => this.CONSUME2(T.Identifier) },
    ]);
    this.OPTION({
      GATE: () => this.goesOn(),
      DEF: () => {
        this.CONSUME(T.Identifier);
        this.MANY(() => this.CONSUME2(T.NumberLit));
        this.OPTION2(() => {
          this.CONSUME(T.Every);
          this.CONSUME3(T.NumberLit);
        });
      },
    });
    this.OPTION4(() => {
      this.CONSUME(T.Warmup);
      this.CONSUME5(T.NumberLit);
    });
  });

  earlyStop = this.RULE('earlyStop', () => {
    this.CONSUME(T.Early);
    this.CONSUME(T.Stop);
    this.OPTION(() => {
      this.CONSUME(T.Patience);
      this.CONSUME(T.NumberLit);
    });
    this.OPTION2(() => {
      this.CONSUME(T.On);
      this.CONSUME(T.Identifier);
    });
  });

  classWeights = this.RULE('classWeights', () => {
    this.CONSUME(T.Class);
    this.CONSUME(T.Weights);
    this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.None) }]);
  });

  // balance classes | balance none (the checker checks the word).
  balance = this.RULE('balance', () => {
    this.CONSUME(T.Balance);
    this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.None) }]);
  });

  // keep | update batchnorm statistics (the checker checks the two words).
  batchnorm = this.RULE('batchnorm', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Keep) }, { ALT: () => this.CONSUME(T.Update) }]);
    this.CONSUME(T.Identifier);
    this.CONSUME2(T.Identifier);
  });

  thenStage = this.RULE('thenStage', () => {
    this.CONSUME(T.Then);
  });

  split = this.RULE('split', () => {
    this.CONSUME(T.Split);
    this.CONSUME(T.Ratio);
  });

  validate = this.RULE('validate', () => {
    this.CONSUME(T.Validate);
    this.CONSUME(T.On);
    this.SUBRULE(this.dataLocation);
  });

  test = this.RULE('test', () => {
    this.CONSUME(T.Test);
    this.CONSUME(T.On);
    this.SUBRULE(this.dataLocation);
  });

  augment = this.RULE('augment', () => {
    this.CONSUME(T.Augment);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.augmentation) });
  });

  augmentation = this.RULE('augmentation', () => {
    this.CONSUME(T.Identifier);
    this.MANY({ GATE: () => this.goesOn(), DEF: () => this.SUBRULE(this.arg) });
  });

  save = this.RULE('save', () => {
    this.CONSUME(T.Save);
    this.OPTION(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.Best);
            this.CONSUME(T.By);
            this.CONSUME(T.Identifier);
          },
        },
        { ALT: () => this.CONSUME(T.Last) },
      ]);
    });
    this.OPTION2(() => {
      this.CONSUME(T.To);
      this.SUBRULE(this.location);
    });
  });

  exportModel = this.RULE('exportModel', () => {
    this.CONSUME(T.ExportKw);
    this.CONSUME(T.Identifier);
    this.OPTION({ GATE: () => this.goesOn(), DEF: () => this.CONSUME2(T.Identifier) });
  });

  /** Data after `on`: a location, or a bare folder name (`on strawberries`). */
  dataLocation = this.RULE('dataLocation', () => {
    this.OR([{ ALT: () => this.SUBRULE(this.location) }, { ALT: () => this.CONSUME(T.Identifier) }]);
  });

  location = this.RULE('location', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.PathLit) },
      { ALT: () => this.CONSUME(T.RelPath) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.Url) },
    ]);
  });

  // The sweep's layer reads the whole token stream: lists, the sweep's clauses, every other token as it stands. A
  // variant (compiler/variants.ts) is that stream with one alternative per list, which `recipe` then reads.

  sweep = this.RULE('sweep', () => {
    this.MANY(() =>
      this.OR([
        {
          GATE: () => this.LA(2).tokenType === T.Best,
          ALT: () => this.SUBRULE(this.keepBest),
          IGNORE_AMBIGUITIES: true,
        },
        {
          GATE: () => this.startsLine('vary', 'together'),
          ALT: () => this.SUBRULE(this.varyTogether),
          IGNORE_AMBIGUITIES: true,
        },
        { GATE: () => this.startsLine('sample'), ALT: () => this.SUBRULE(this.sample), IGNORE_AMBIGUITIES: true },
        { ALT: () => this.SUBRULE(this.list) },
        { ALT: () => this.CONSUME(T.RBrace) },
        { ALT: () => this.passing() },
      ]),
    );
  });

  /** A token the sweep hands on as it stands. */
  private passing(): void {
    this.OR2([
      { ALT: () => this.CONSUME(T.Plain) },
      { ALT: () => this.CONSUME(T.Comma) },
      { ALT: () => this.CONSUME(T.LParen) },
      { ALT: () => this.CONSUME(T.RParen) },
    ]);
  }

  /** Whether the word after a statement's value goes on with it (gates.ts). */
  private goesOn(): boolean {
    return goesOn(this.LA(0), this.LA(1));
  }

  private startsLine(...words: string[]): boolean {
    return startsLine(
      this.LA(0),
      words.map((_, i) => this.LA(i + 1)),
      words,
    );
  }

  private nextOnLineOf(t: IToken): boolean {
    return nextOnLineOf(t, this.LA(1));
  }

  /** `keep best N after K epochs`. */
  keepBest = this.RULE('keepBest', () => {
    this.CONSUME(T.Keep);
    this.CONSUME(T.Best);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.Identifier);
    this.CONSUME2(T.NumberLit);
    this.CONSUME(T.Epochs);
  });

  /** `vary together SLOT, SLOT…`: the slots run to the end of the line (a slot can be two words, `freeze until`). */
  varyTogether = this.RULE('varyTogether', () => {
    const vary = this.CONSUME(T.Identifier);
    this.CONSUME2(T.Identifier);
    this.MANY({ GATE: () => this.nextOnLineOf(vary), DEF: () => this.passing() });
  });

  /** `sample N`: N of the grid's variants. */
  sample = this.RULE('sample', () => {
    const sample = this.CONSUME(T.Identifier);
    this.OPTION({ GATE: () => this.nextOnLineOf(sample), DEF: () => this.CONSUME(T.Plain) });
  });

  /** `{a, b}`: a list of alternatives. A missing `}` is the checker's to say (its own code, at the `{`). */
  list = this.RULE('list', () => {
    this.CONSUME(T.LBrace);
    this.SUBRULE(this.alternative);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.alternative);
    });
    this.OPTION(() => this.CONSUME(T.RBrace));
  });

  /** One alternative: any tokens, its commas inside parentheses (`dense(64, relu) dense(2)`). */
  alternative = this.RULE('alternative', () => {
    this.MANY(() =>
      this.OR([
        { ALT: () => this.SUBRULE(this.parenthesized) },
        { ALT: () => this.CONSUME(T.Plain) },
        { ALT: () => this.CONSUME(T.RParen) },
      ]),
    );
  });

  parenthesized = this.RULE('parenthesized', () => {
    this.CONSUME(T.LParen);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.SUBRULE(this.parenthesized) },
        { ALT: () => this.CONSUME(T.Plain) },
        { ALT: () => this.CONSUME(T.Comma) },
      ]),
    );
    this.OPTION(() => this.CONSUME(T.RParen));
  });
}

/** One parser instance serves every parse (Chevrotain parsers are reusable). */
export const parser = new RecipeParser();
