import type { IToken } from 'chevrotain';
import type { Span } from './source.js';

// The recipe as written, with spans: a flat list of statements in source order. Grouping into
// stages and every rule about what may follow what belong to the checker.

export interface Num {
  readonly value: number;
  readonly text: string;
  readonly span: Span;
}
export interface Name {
  readonly text: string;
  readonly span: Span;
}
export interface Location {
  readonly text: string;
  readonly quoted: boolean;
  readonly url: boolean;
  readonly span: Span;
}

export type FreezeTarget =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'until'; readonly layer: Name }
  | { readonly kind: 'first'; readonly count: Num };

export type UnfreezeTarget =
  | { readonly kind: 'all' }
  | { readonly kind: 'from'; readonly layer: Name }
  | { readonly kind: 'last'; readonly count: Num };

export type Arg = Num | Name;
/** Whether an argument is a number. */
export const isNum = (a: Arg): a is Num => 'value' in a;

/** The word after a head's layers that makes it multi-label. */
export const MULTI_LABEL = 'multi-label';

export interface HeadLayer {
  readonly name: Name;
  readonly args: readonly Arg[];
  readonly parens: boolean;
  readonly span: Span;
}
export interface Augmentation {
  readonly name: Name;
  readonly args: readonly Arg[];
  readonly span: Span;
}
export interface Schedule {
  readonly name: Name;
  readonly args: readonly Num[];
  readonly every: Num | null;
}
/** `1e-5..1e-3`: the lowest trained block's rate to the head's. */
export interface Range {
  readonly low: Num;
  readonly high: Num;
  readonly span: Span;
}
/** Whether an `lr` value is a range. */
export const isRange = (v: Num | Name | Range): v is Range => 'low' in v;
/** An `lr` value as written: `0.001`, `1e-5..1e-3` or `auto`. */
export const lrText = (v: Num | Name | Range): string => (isRange(v) ? `${v.low.text}..${v.high.text}` : v.text);

type S<K extends string, T> = { readonly kind: K; readonly span: Span; readonly keyword: Span } & T;

export type Statement =
  | S<'recipe', { readonly name: Name }>
  | S<'seed', { readonly value: Num }>
  | S<'from', { readonly model: Name }>
  | S<
      'weights',
      {
        readonly source:
          | { readonly kind: 'name'; readonly name: Name }
          | { readonly kind: 'none'; readonly span: Span }
          | { readonly kind: 'location'; readonly location: Location };
      }
    >
  | S<'width', { readonly value: Num }>
  | S<'input', { readonly value: Num }>
  /** `features int8 | float`: the precision of passes that compute cached features (the checker checks the word). */
  | S<'features', { readonly precision: Name }>
  | S<'freeze', { readonly target: FreezeTarget }>
  | S<'unfreeze', { readonly target: UnfreezeTarget }>
  /** `task`: the word `multi-label` after the layers (one sigmoid per label), or null (one softmax over classes). */
  | S<'head', { readonly layers: readonly HeadLayer[]; readonly task: Name | null }>
  | S<'train', { readonly epochs: Num | null; readonly data: Location | null }>
  | S<'batch', { readonly value: Num }>
  | S<'optimizer', { readonly name: Name }>
  | S<'lr', { readonly value: Num | Name | Range; readonly schedule: Schedule | null; readonly warmup: Num | null }>
  | S<'earlyStop', { readonly patience: Num | null; readonly metric: Name | null }>
  | S<'classWeights', { readonly mode: Name }>
  | S<'balance', { readonly mode: Name }>
  | S<'batchnorm', { readonly mode: 'keep' | 'update'; readonly words: readonly Name[] }>
  | S<'then', object>
  | S<'split', { readonly parts: readonly Num[] }>
  | S<'validate', { readonly data: Location }>
  | S<'test', { readonly data: Location }>
  | S<'augment', { readonly items: readonly Augmentation[] }>
  | S<'save', { readonly best: Name | null; readonly last: boolean; readonly to: Location | null }>
  | S<'export', { readonly format: Name; readonly option: Name | null }>
  // The sweep's own clauses: read with the lists (compiler/sweep.ts), never part of a variant.
  | S<'keepBest', { readonly best: Num; readonly word: Name; readonly after: Num }>
  | S<'varyTogether', { readonly slots: readonly Name[] }>
  | S<'sample', { readonly count: Name | null }>;

export type StatementKind = Statement['kind'];

export interface Ast {
  readonly statements: readonly Statement[];
  readonly comments: readonly Comment[];
}

export interface Comment {
  readonly text: string;
  readonly span: Span;
}

/** A `{…}` list as the grammar read it: its braces, its commas, and each alternative's tokens. */
export interface ListSyntax {
  readonly open: IToken;
  readonly commas: readonly IToken[];
  /** Null when the list is never closed. */
  readonly close: IToken | null;
  readonly alternatives: readonly (readonly IToken[])[];
}

/** The sweep's layer as the grammar read it (`parser.sweep`). */
export interface SweepSyntax {
  readonly clauses: readonly Statement[];
  readonly lists: readonly ListSyntax[];
  /** `}` without a `{` before it. */
  readonly strays: readonly IToken[];
}
