import { CstParser, type IToken } from 'chevrotain';
import { goesOn, nextOnLineOf, startsLine } from './gates.js';
import * as T from './lexer.js';

// The grammar's sweep layer, which RecipeParser (grammar.ts) inherits: Chevrotain reads a grammar's rules from its
// class and the classes it extends, so the one grammar keeps one parser while its rules live in two files.

/** The sweep's rules and the gates every rule may use; RecipeParser adds the statements and analyses them all. */
export abstract class SweepRules extends CstParser {
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
  protected passing(): void {
    this.OR2([
      { ALT: () => this.CONSUME(T.Plain) },
      { ALT: () => this.CONSUME(T.Comma) },
      { ALT: () => this.CONSUME(T.LParen) },
      { ALT: () => this.CONSUME(T.RParen) },
    ]);
  }

  /** Whether the word after a statement's value goes on with it (gates.ts). */
  protected goesOn(): boolean {
    return goesOn(this.LA(0), this.LA(1));
  }

  protected startsLine(...words: string[]): boolean {
    return startsLine(
      this.LA(0),
      words.map((_, i) => this.LA(i + 1)),
      words,
    );
  }

  protected nextOnLineOf(t: IToken): boolean {
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
