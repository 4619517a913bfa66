import { channels, NO_MACS, type OpDef } from './types.js';

// BatchNorm over the last axis. `momentum` as Keras means it: moving = momentum * moving + (1 - momentum) * batch.

export interface BatchNormOp {
  readonly kind: 'bn';
  readonly epsilon: number;
  readonly momentum: number;
}

export const bn: OpDef<BatchNormOp> = {
  kind: 'bn',
  weighted: true,
  infer: (_op, [x]) => ({ shape: x!, params: 2 * channels(x!) }),
  ...NO_MACS,
  weights: (_op, [x]) => {
    const c = [channels(x!)];
    return [
      { suffix: 'gamma', shape: c },
      { suffix: 'beta', shape: c },
      { suffix: 'moving_mean', shape: c, buffer: true },
      { suffix: 'moving_variance', shape: c, buffer: true },
    ];
  },
  torchvision: {
    weight: { suffix: 'gamma' },
    bias: { suffix: 'beta' },
    running_mean: { suffix: 'moving_mean' },
    running_var: { suffix: 'moving_variance' },
  },
  layer: (k) =>
    k.apply(
      new k.custom.FreezableBatchNorm({
        name: k.node.name,
        epsilon: k.node.op.epsilon,
        momentum: k.bnMomentum ?? k.node.op.momentum,
        axis: -1,
      }),
    ),
  // Reached only when no convolution before it took it in: a per-channel scale and shift.
  program: (k) => {
    const { scale, shift } = k.bnAffine(k.node.name, k.node.op.epsilon);
    k.emit(
      k.step({
        kind: 'affine',
        scale: k.weight(scale, [scale.length]),
        shift: k.weight(shift, [shift.length]),
        inputs: k.src(),
      }),
    );
  },
};
