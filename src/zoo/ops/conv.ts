import { channels, padOf, spatial, widen, type OpDef, type Pad, type Pair, type ProgramKit } from './types.js';

// Convolutions: a full one (Conv2d / Conv2D) and a depthwise one (groups = channels / DepthwiseConv2D).

export interface ConvOp {
  readonly kind: 'conv';
  readonly filters: number;
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly padding: Pad;
  readonly bias: boolean;
}
export interface DepthwiseOp {
  readonly kind: 'depthwise';
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly padding: Pad;
  readonly bias: boolean;
}

/**
 * One program step for the convolution, with the BatchNorm after it folded into its kernel and
 * bias, and the ReLU or ReLU6 after that fused into it.
 */
function convStep(k: ProgramKit<ConvOp | DepthwiseOp>, kernelName: string): void {
  const op = k.node.op;
  const w = k.weights();
  const kw = w.get(kernelName);
  if (!kw) throw new Error(`layer ${k.node.name} has no ${kernelName} weight`);
  let kernel = kw.data,
    bias = w.get('bias')?.data ?? null;
  const fused = [];
  const bn = k.sole();
  if (bn?.op && (bn.op as { kind: string }).kind === 'bn') {
    const { scale, shift } = k.bnAffine(bn.name, (bn.op as { epsilon: number }).epsilon);
    // Output channel of a flat kernel index: the last axis for a convolution, the last two
    // (channel, multiplier) for a depthwise one; both are the index modulo their product.
    const outs = scale.length;
    kernel = kernel.map((v, i) => v * scale[i % outs]!);
    const b0 = bias;
    bias = shift.map((s, c) => s + (b0 ? b0[c]! * scale[c]! : 0));
    fused.push(bn);
  }
  let activation = 'linear';
  const act = k.sole(fused[fused.length - 1] ?? k.node);
  const actKind = (act?.op as { kind?: string } | undefined)?.kind;
  if (act && (actKind === 'relu' || actKind === 'relu6')) {
    activation = actKind;
    fused.push(act);
  }
  const pad = k.extraPad ? widen(padOf(op.padding), k.extraPad)! : padOf(op.padding);
  const at = k.step({
    kind: 'conv',
    depthwise: op.kind === 'depthwise',
    kernel: k.weight(kernel, kw.shape),
    bias: bias && k.weight(bias, [bias.length]),
    strides: [op.strides[0], op.strides[1]],
    pad,
    activation,
    inputs: k.src(),
  });
  k.emit(at, ...fused);
}

/**
 * The padding a layer gets: at stride 1, PyTorch's symmetric (k - 1) / 2 is TF's 'same' exactly,
 * and 'same' needs no padding layer, whose gradient would throw away a border the convolution's
 * input gradient computed first (ResNet's 3x3 layers: 9 x 9 of it for a 7 x 7 map).
 */
function layerPadding(op: ConvOp | DepthwiseOp): Pad {
  const p = op.padding,
    [kh, kw] = op.kernel;
  const half = (k: number) => (k % 2 === 1 ? (k - 1) / 2 : -1);
  if (
    p !== 'same' &&
    p !== 'valid' &&
    op.strides.every((s) => s === 1) &&
    p[0] === half(kh) &&
    p[1] === half(kh) &&
    p[2] === half(kw) &&
    p[3] === half(kw) &&
    half(kh) > 0
  )
    return 'same';
  return p;
}

export const conv: OpDef<ConvOp> = {
  kind: 'conv',
  weighted: true,
  infer: (op, [x]) => ({
    shape: [...spatial(x!, op.kernel, op.strides, op.padding), op.filters],
    params: op.kernel[0] * op.kernel[1] * channels(x!) * op.filters + (op.bias ? op.filters : 0),
  }),
  macs: (op, [x], y) => y[0]! * y[1]! * op.filters * op.kernel[0] * op.kernel[1] * channels(x!),
  weights: (op, [x]) => [
    { suffix: 'kernel', shape: [op.kernel[0], op.kernel[1], channels(x!), op.filters] },
    ...(op.bias ? [{ suffix: 'bias', shape: [op.filters] }] : []),
  ],
  // OIHW -> HWIO.
  torchvision: { weight: { suffix: 'kernel', perm: [2, 3, 1, 0] }, bias: { suffix: 'bias' } },
  layer: (k) => {
    const op = k.node.op,
      p = k.padded(k.inputs[0]!, layerPadding(op));
    return k.apply(
      k.tf.layers.conv2d({
        name: k.node.name,
        filters: op.filters,
        kernelSize: [...op.kernel],
        strides: [...op.strides],
        padding: p.padding,
        useBias: op.bias,
        kernelInitializer: k.heNormal(),
      }),
      p.x,
    );
  },
  program: (k) => convStep(k, 'kernel'),
};

export const depthwise: OpDef<DepthwiseOp> = {
  kind: 'depthwise',
  weighted: true,
  infer: (op, [x]) => ({
    shape: [...spatial(x!, op.kernel, op.strides, op.padding), channels(x!)],
    params: op.kernel[0] * op.kernel[1] * channels(x!) + (op.bias ? channels(x!) : 0),
  }),
  macs: (op, [x], y) => y[0]! * y[1]! * channels(x!) * op.kernel[0] * op.kernel[1],
  weights: (op, [x]) => [
    { suffix: 'depthwise_kernel', shape: [op.kernel[0], op.kernel[1], channels(x!), 1] },
    ...(op.bias ? [{ suffix: 'bias', shape: [channels(x!)] }] : []),
  ],
  // PyTorch's grouped convolution ([C, 1, H, W]) -> TF's depthwise kernel [H, W, C, 1]; the torch
  // engine builds the zoo's MobileNets with these names (python/tlr_torch/graph.py).
  torchvision: { weight: { suffix: 'depthwise_kernel', perm: [2, 3, 0, 1] }, bias: { suffix: 'bias' } },
  layer: (k) => {
    const op = k.node.op,
      p = k.padded(k.inputs[0]!, layerPadding(op));
    return k.apply(
      k.tf.layers.depthwiseConv2d({
        name: k.node.name,
        kernelSize: [...op.kernel],
        strides: [...op.strides],
        padding: p.padding,
        useBias: op.bias,
        depthwiseInitializer: k.heNormal(),
      }),
      p.x,
    );
  },
  program: (k) => convStep(k, 'depthwise_kernel'),
};
