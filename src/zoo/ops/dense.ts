import { NO_WEIGHTS, NO_MACS, type OpDef } from './types.js';

// The classifier's ops: flatten, a fully connected layer, dropout.

/** order 'chw' flattens like PyTorch (channels first), which torchvision's first Linear expects. */
export interface FlattenOp {
  readonly kind: 'flatten';
  readonly order: 'chw' | 'hwc';
}
export interface DenseOp {
  readonly kind: 'dense';
  readonly units: number;
  readonly bias: boolean;
}
export interface DropoutOp {
  readonly kind: 'dropout';
  readonly rate: number;
}

export const flatten: OpDef<FlattenOp> = {
  kind: 'flatten',
  infer: (_op, [x]) => ({ shape: [x!.reduce((a, b) => a * b, 1)], params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => {
    // PyTorch flattens channels first; a Linear layer's weights expect that order.
    const input =
      k.node.op.order === 'chw'
        ? k.apply(k.tf.layers.permute({ name: `${k.node.name}.chw`, dims: [3, 1, 2] }))
        : k.inputs[0]!;
    return k.apply(k.tf.layers.flatten({ name: k.node.name }), input);
  },
  program: (k) => k.emit(k.step({ kind: 'flatten', chw: k.node.op.order === 'chw', inputs: k.src() })),
};

export const dense: OpDef<DenseOp> = {
  kind: 'dense',
  weighted: true,
  infer: (op, [x]) => ({ shape: [op.units], params: x![0]! * op.units + (op.bias ? op.units : 0) }),
  macs: (op, [x]) => x![0]! * op.units,
  weights: (op, [x]) => [
    { suffix: 'kernel', shape: [x![0]!, op.units] },
    ...(op.bias ? [{ suffix: 'bias', shape: [op.units] }] : []),
  ],
  // [out, in] -> [in, out]; a Linear stored as a convolution (timm's VGG) flattens to the same matrix.
  torchvision: { weight: { suffix: 'kernel', perm: [1, 0], flat2d: true }, bias: { suffix: 'bias' } },
  layer: (k) =>
    k.apply(
      k.tf.layers.dense({
        name: k.node.name,
        units: k.node.op.units,
        useBias: k.node.op.bias,
        kernelInitializer: k.glorotUniform(),
      }),
    ),
  program: (k) => {
    const act = k.sole();
    const fuse = act && (act.op as { kind: string }).kind === 'relu';
    const w = k.weights(),
      kernel = w.get('kernel'),
      bias = w.get('bias');
    if (!kernel) throw new Error(`layer ${k.node.name} has no kernel weight`);
    const at = k.step({
      kind: 'dense',
      kernel: k.weight(kernel.data, kernel.shape),
      bias: bias ? k.weight(bias.data, bias.shape) : null,
      activation: fuse ? 'relu' : 'linear',
      inputs: k.src(),
    });
    k.emit(at, ...(fuse ? [act] : []));
  },
};

export const dropout: OpDef<DropoutOp> = {
  kind: 'dropout',
  infer: (_op, [x]) => ({ shape: x!, params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => k.apply(new k.custom.FreezableDropout({ name: k.node.name, rate: k.node.op.rate, seed: k.seed })),
  // Inference: the identity.
  program: (k) => k.emit(k.src()[0]!),
};
