import { NO_WEIGHTS, NO_MACS, padOf, widen, type OpDef } from './types.js';

// Explicit zero padding (Keras' ZeroPadding2D): [top, bottom, left, right].

export interface ZeroPadOp {
  readonly kind: 'zeropad';
  readonly padding: readonly [number, number, number, number];
}

const ABSORBS = new Set(['conv', 'depthwise', 'maxpool']);

export const zeropad: OpDef<ZeroPadOp> = {
  kind: 'zeropad',
  infer: (op, [x]) => ({
    shape: [x![0]! + op.padding[0] + op.padding[1], x![1]! + op.padding[2] + op.padding[3], x![2]!],
    params: 0,
  }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => {
    const p = k.node.op.padding;
    return k.apply(
      k.tf.layers.zeroPadding2d({
        name: k.node.name,
        padding: [
          [p[0], p[1]],
          [p[2], p[3]],
        ],
      }),
    );
  },
  program: (k) => {
    // Folded into a convolution or max pool that follows (zeros equal -inf padding after a ReLU,
    // as in the layers builder).
    const next = k.sole();
    const nextOp = next?.op as { kind: string; padding: import('./types.js').Pad } | undefined;
    if (next && nextOp && ABSORBS.has(nextOp.kind) && widen(padOf(nextOp.padding), k.node.op.padding)) {
      k.foldPadInto(next, k.node.op.padding);
      return;
    }
    k.emit(k.step({ kind: 'pad', pad: k.node.op.padding, inputs: k.src() }));
  },
};
