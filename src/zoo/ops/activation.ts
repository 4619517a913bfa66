import { NO_WEIGHTS, type OpDef } from './types.js';

// Activations as layers of their own (those right after a convolution or dense layer are fused
// into it by the program compiler).

export interface ReluOp { readonly kind: 'relu' }
export interface Relu6Op { readonly kind: 'relu6' }

export const relu: OpDef<ReluOp> = {
  kind: 'relu',
  infer: (_op, [x]) => ({ shape: x!, params: 0 }),
  ...NO_WEIGHTS,
  layer: (k) => k.apply(k.tf.layers.reLU({ name: k.node.name })),
  program: (k) => k.emit(k.step({ kind: 'activation', activation: 'relu', inputs: k.src() })),
};

export const relu6: OpDef<Relu6Op> = {
  kind: 'relu6',
  infer: (_op, [x]) => ({ shape: x!, params: 0 }),
  ...NO_WEIGHTS,
  layer: (k) => k.apply(k.tf.layers.reLU({ name: k.node.name, maxValue: 6 })),
  program: (k) => k.emit(k.step({ kind: 'activation', activation: 'relu6', inputs: k.src() })),
};
