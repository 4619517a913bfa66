import { NO_WEIGHTS, NO_MACS, type OpDef } from './types.js';

// Activations as layers of their own (those right after a convolution or dense layer are fused
// into it by the program compiler).

export interface ReluOp {
  readonly kind: 'relu';
}
export interface Relu6Op {
  readonly kind: 'relu6';
}

/** A ReLU, capped at `maxValue` when given (ReLU6). */
const reluDef = <K extends 'relu' | 'relu6'>(kind: K, maxValue?: number): OpDef<{ readonly kind: K }> => ({
  kind,
  infer: (_op, [x]) => ({ shape: x!, params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => k.apply(k.tf.layers.reLU({ name: k.node.name, ...(maxValue ? { maxValue } : {}) })),
  program: (k) => k.emit(k.step({ kind: 'activation', activation: kind, inputs: k.src() })),
});

export const relu: OpDef<ReluOp> = reluDef('relu');
export const relu6: OpDef<Relu6Op> = reluDef('relu6', 6);
