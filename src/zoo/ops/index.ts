import type { OpDef } from './types.js';
import { conv, depthwise, type ConvOp, type DepthwiseOp } from './conv.js';
import { bn, type BatchNormOp } from './batchnorm.js';
import { relu, relu6, type ReluOp, type Relu6Op } from './activation.js';
import { zeropad, type ZeroPadOp } from './zeropad.js';
import {
  adaptiveavg,
  avgpool,
  gap,
  maxpool,
  type AdaptiveAvgOp,
  type AvgPoolOp,
  type GapOp,
  type MaxPoolOp,
} from './pool.js';
import { dense, dropout, flatten, type DenseOp, type DropoutOp, type FlattenOp } from './dense.js';
import { add, concat, type AddOp, type ConcatOp } from './merge.js';

// The registry of network ops: every kind a zoo graph may contain, each defined once in its file.
// To add an op: write its file (its type and an OpDef), then add it to `Op` and `OPS` below.

/** The graph's input: not an op that computes anything, so it has no OpDef. */
export interface InputOp {
  readonly kind: 'input';
}

export type Op =
  | InputOp
  | ConvOp
  | DepthwiseOp
  | BatchNormOp
  | ReluOp
  | Relu6Op
  | ZeroPadOp
  | MaxPoolOp
  | AvgPoolOp
  | AdaptiveAvgOp
  | GapOp
  | FlattenOp
  | DenseOp
  | DropoutOp
  | AddOp
  | ConcatOp;

export type OpKind = Exclude<Op['kind'], 'input'>;
type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;

/** One definition per kind; the mapped type makes a missing kind a type error. */
export const OPS: { readonly [K in OpKind]: OpDef<OpOf<K>> } = {
  conv,
  depthwise,
  bn,
  relu,
  relu6,
  zeropad,
  maxpool,
  avgpool,
  adaptiveavg,
  gap,
  flatten,
  dense,
  dropout,
  add,
  concat,
};

/** The definition of `op`'s kind, typed for the op itself. */
export function opDef<O extends Exclude<Op, InputOp>>(op: O): OpDef<O> {
  return OPS[op.kind as OpKind] as unknown as OpDef<O>;
}

export type { OpDef, Pad, Pair, Shape, WeightShape, TorchParam, LayerKit, ProgramKit, OpNode } from './types.js';
export { ceilModePadding } from './pool.js';

/**
 * Whether an op holds weights (its row's `weighted`): `freeze first N layers` and `tlr models`
 * count these, so a new op with weights is counted with no other change.
 */
export const isWeightedOp = (kind: string): boolean => kind in OPS && OPS[kind as OpKind].weighted;
