import type { CstNode } from 'chevrotain';
import { CLAUSES, STATEMENT_KINDS } from './clauses.js';
import { messages } from './syntax-messages.js';
import { SweepRules } from './sweep-grammar.js';
import * as T from './lexer.js';

// The grammar only recognises; it builds a CST and nothing else. It is deliberately loose (any
// statement, in any order, any number of times): the checker says what is wrong, and better.

/** The Chevrotain grammar of recipes (the sweep's rules are inherited); `npm run grammar` draws its diagrams. */
export class RecipeParser extends SweepRules {
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

  // features int8 | features float (the checker checks the word).
  features = this.RULE('features', () => {
    this.CONSUME(T.Features);
    this.CONSUME(T.Identifier);
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
}

/** One parser instance serves every parse (Chevrotain parsers are reusable). */
export const parser = new RecipeParser();
