import type { CstElement, CstNode, IToken } from 'chevrotain';
import { parser } from './grammar.js';
import type * as A from './ast.js';
import type { LineIndex, Span } from './source.js';

// The CST visitor's reading of tokens and nodes, and the sweep's layer (its clauses, lists and stray `}`s, which
// compiler/sweep.ts reads); AstBuilder (to-ast.ts) adds the statements.

export type Children = Record<string, CstElement[] | undefined>;
const BaseVisitor = parser.getBaseCstVisitorConstructor();

/** A word the parser had to make up while recovering: the statement is dropped (its syntax error is reported). */
export class Missing extends Error {}

/** Reads tokens and nodes into the AST's pieces, and the sweep layer's nodes. */
export abstract class SweepBuilder extends BaseVisitor {
  constructor(protected readonly lines: LineIndex) {
    super();
  }

  protected tok(c: Children, name: string, i = 0): IToken {
    const t = c[name]?.[i] as IToken | undefined;
    if (!t || t.isInsertedInRecovery || Number.isNaN(t.startOffset)) throw new Missing();
    return t;
  }
  protected opt(c: Children, name: string, i = 0): IToken | null {
    const t = c[name]?.[i] as IToken | undefined;
    return t && !t.isInsertedInRecovery && !Number.isNaN(t.startOffset) ? t : null;
  }
  protected span(t: IToken): Span {
    return this.lines.span(t.startOffset, t.endOffset! + 1);
  }
  protected num(t: IToken): A.Num {
    return { value: Number(t.image), text: t.image, span: this.span(t) };
  }
  protected name(t: IToken): A.Name {
    return { text: t.image, span: this.span(t) };
  }
  protected node(c: Children, name: string): CstNode {
    const n = c[name]?.[0] as CstNode | undefined;
    if (!n) throw new Missing();
    return n;
  }
  protected nodeSpan(n: CstNode): Span {
    const loc = n.location!;
    if (
      loc.startOffset === undefined ||
      Number.isNaN(loc.startOffset) ||
      loc.endOffset === undefined ||
      Number.isNaN(loc.endOffset)
    )
      throw new Missing();
    return this.lines.span(loc.startOffset, loc.endOffset + 1);
  }

  /** A clause's node with its span and its first word's. */
  protected clause(inner: CstNode): A.Statement {
    if (inner.recoveredNode) throw new Missing();
    const keywordTok = Object.values(inner.children)
      .flat()
      .find((e): e is IToken => 'image' in e && (e as IToken).startOffset === inner.location!.startOffset)!;
    const stmt = this.visit(inner) as Omit<A.Statement, 'span' | 'keyword'>;
    return { ...stmt, span: this.nodeSpan(inner), keyword: this.span(keywordTok) } as A.Statement;
  }

  // The sweep's layer: its clauses, its lists and its stray `}`s, which compiler/sweep.ts reads.

  sweep(c: Children): A.SweepSyntax {
    const clauses = ['keepBest', 'varyTogether', 'sample'].flatMap((rule) =>
      ((c[rule] ?? []) as CstNode[]).flatMap((n) => {
        try {
          return [this.clause(n)];
        } catch (e) {
          if (e instanceof Missing) return [];
          throw e;
        }
      }),
    );
    const lists = ((c['list'] ?? []) as CstNode[]).map((n) => this.visit(n) as A.ListSyntax);
    return { clauses, lists, strays: (c['RBrace'] ?? []) as IToken[] };
  }

  keepBest(c: Children) {
    const [best, after] = this.sorted(c, 'NumberLit');
    this.tok(c, 'Epochs');
    if (!best || !after) throw new Missing();
    return {
      kind: 'keepBest',
      best: this.num(best),
      word: this.name(this.tok(c, 'Identifier')),
      after: this.num(after),
    };
  }

  varyTogether(c: Children) {
    const rest = ['Plain', 'Comma', 'LParen', 'RParen'].flatMap((k) => this.sorted(c, k));
    rest.sort((a, b) => a.startOffset - b.startOffset);
    const slots: A.Name[] = [];
    let from = 0;
    for (let i = 0; i <= rest.length; i++) {
      if (i < rest.length && rest[i]!.tokenType.name !== 'Comma') continue;
      const words = rest.slice(from, i);
      from = i + 1;
      if (!words.length) continue;
      const start = words[0]!.startOffset,
        end = words[words.length - 1]!.endOffset! + 1;
      slots.push({ text: this.lines.text.slice(start, end).replace(/\s+/g, ' '), span: this.lines.span(start, end) });
    }
    return { kind: 'varyTogether', slots };
  }

  sample(c: Children) {
    const n = this.opt(c, 'Plain');
    return { kind: 'sample', count: n ? this.name(n) : null };
  }

  list(c: Children): A.ListSyntax {
    return {
      open: this.tok(c, 'LBrace'),
      commas: this.sorted(c, 'Comma'),
      close: this.opt(c, 'RBrace'),
      alternatives: ((c['alternative'] ?? []) as CstNode[]).map((n) => this.visit(n) as IToken[]),
    };
  }

  alternative(c: Children): IToken[] {
    return this.tokens(c);
  }

  parenthesized(c: Children): IToken[] {
    return this.tokens(c);
  }

  /** A node's tokens, nested ones included, in the text's order. */
  protected tokens(c: Children): IToken[] {
    const nested = ((c['parenthesized'] ?? []) as CstNode[]).flatMap((n) => this.visit(n) as IToken[]);
    const own = Object.entries(c).flatMap(([k, v]) => (k === 'parenthesized' ? [] : (v as IToken[])));
    return [...nested, ...own].filter((t) => !t.isInsertedInRecovery).sort((a, b) => a.startOffset - b.startOffset);
  }

  protected sorted(c: Children, name: string): IToken[] {
    return ((c[name] ?? []) as IToken[])
      .filter((t) => !t.isInsertedInRecovery && !Number.isNaN(t.startOffset))
      .sort((a, b) => a.startOffset - b.startOffset);
  }
}
