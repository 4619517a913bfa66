import { NO_WEIGHTS, NO_MACS, type OpDef } from './types.js';

// Ops that join branches: a residual sum and a channel concatenation.

export interface AddOp {
  readonly kind: 'add';
}
export interface ConcatOp {
  readonly kind: 'concat';
}

export const add: OpDef<AddOp> = {
  kind: 'add',
  infer: (_op, [a]) => ({ shape: a!, params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => k.apply(k.tf.layers.add({ name: k.node.name }), [...k.inputs]),
  program: (k) => k.emit(k.step({ kind: 'add', inputs: k.src() })),
};

export const concat: OpDef<ConcatOp> = {
  kind: 'concat',
  infer: (_op, xs) => ({ shape: [xs[0]![0]!, xs[0]![1]!, xs.reduce((t, x) => t + x[2]!, 0)], params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => k.apply(k.tf.layers.concatenate({ name: k.node.name, axis: -1 }), [...k.inputs]),
  program: (k) => k.emit(k.step({ kind: 'concat', inputs: k.src() })),
};
