import {
  channels,
  isZeroPad,
  NO_WEIGHTS,
  NO_MACS,
  padOf,
  spatial,
  widen,
  type OpDef,
  type Pad,
  type Pair,
} from './types.js';

// Pools: max and average over windows, PyTorch's adaptive average, and the global average.

export interface MaxPoolOp {
  readonly kind: 'maxpool';
  readonly pool: Pair;
  readonly strides: Pair;
  readonly padding: Pad;
  readonly ceil: boolean;
}
/** countIncludePad mirrors PyTorch's avg_pool2d default, which Inception relies on. */
export interface AvgPoolOp {
  readonly kind: 'avgpool';
  readonly pool: Pair;
  readonly strides: Pair;
  readonly padding: Pad;
  readonly countIncludePad: boolean;
}
export interface AdaptiveAvgOp {
  readonly kind: 'adaptiveavg';
  readonly size: number;
}
export interface GapOp {
  readonly kind: 'gap';
}

/**
 * A max pool's padding with ceil mode made explicit: extra rows and columns at the bottom and
 * right so the last partial window is kept (`size` is the pool's input [h, w]).
 */
export function ceilModePadding(
  op: { readonly pool: Pair; readonly strides: Pair; readonly padding: Pad; readonly ceil: boolean },
  size: readonly number[],
): Pad {
  const p = op.padding;
  if (!op.ceil || p === 'same') return p;
  const base = p === 'valid' ? [0, 0, 0, 0] : [...p];
  const extra = (len: number, a: number, b: number) => {
    const r = (len + a + b - op.pool[0]) % op.strides[0];
    return r ? op.strides[0] - r : 0;
  };
  return [
    base[0]!,
    base[1]! + extra(size[0]!, base[0]!, base[1]!),
    base[2]!,
    base[3]! + extra(size[1]!, base[2]!, base[3]!),
  ];
}

export const maxpool: OpDef<MaxPoolOp> = {
  kind: 'maxpool',
  infer: (op, [x]) => ({ shape: [...spatial(x!, op.pool, op.strides, op.padding, op.ceil), channels(x!)], params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => {
    // Ceil mode pads bottom/right (post-ReLU, zeros are neutral).
    const op = k.node.op,
      one = k.inputs[0]!;
    const q = k.padded(one, ceilModePadding(op, one.shape.slice(1, 3) as number[]));
    return k.apply(
      k.tf.layers.maxPooling2d({
        name: k.node.name,
        poolSize: [...op.pool],
        strides: [...op.strides],
        padding: q.padding,
      }),
      q.x,
    );
  },
  program: (k) => {
    const op = k.node.op,
      own = padOf(ceilModePadding(op, k.inputShape()));
    const pad = k.extraPad ? widen(own, k.extraPad)! : own;
    k.emit(
      k.step({
        kind: 'maxpool',
        pool: [op.pool[0], op.pool[1]],
        strides: [op.strides[0], op.strides[1]],
        pad,
        inputs: k.src(),
      }),
    );
  },
};

export const avgpool: OpDef<AvgPoolOp> = {
  kind: 'avgpool',
  infer: (op, [x]) => ({ shape: [...spatial(x!, op.pool, op.strides, op.padding), channels(x!)], params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => {
    const op = k.node.op;
    if (!op.countIncludePad && op.padding !== 'same' && op.padding !== 'valid' && !isZeroPad(op.padding))
      throw new Error(`${k.node.name}: average pooling that excludes padding is not supported`);
    const q = k.padded(k.inputs[0]!, op.padding);
    return k.apply(
      k.tf.layers.averagePooling2d({
        name: k.node.name,
        poolSize: [...op.pool],
        strides: [...op.strides],
        padding: q.padding,
      }),
      q.x,
    );
  },
  program: (k) => {
    const op = k.node.op;
    let pad = padOf(op.padding),
      inputs = k.src();
    if (pad !== 'same' && pad !== 'valid' && !isZeroPad(pad)) {
      // PyTorch counts the padding in the average (countIncludePad); XNNPACK's pool leaves it out.
      inputs = [k.step({ kind: 'pad', pad: [pad[0], pad[1], pad[2], pad[3]], inputs })];
      pad = 'valid';
    }
    k.emit(
      k.step({ kind: 'avgpool', pool: [op.pool[0], op.pool[1]], strides: [op.strides[0], op.strides[1]], pad, inputs }),
    );
  },
};

export const adaptiveavg: OpDef<AdaptiveAvgOp> = {
  kind: 'adaptiveavg',
  infer: (op, [x]) => ({ shape: [op.size, op.size, channels(x!)], params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => {
    // At the network's own input size the pool is the identity: leave it out, so a saved model
    // needs no custom layer to load elsewhere.
    const one = k.inputs[0]!,
      n = k.node.op.size;
    if (one.shape[1] === n && one.shape[2] === n) return one;
    return k.apply(new k.custom.AdaptiveAvgPool2D({ name: k.node.name, size: n }));
  },
  program: (k) => {
    const [h, w] = k.inputShape(),
      n = k.node.op.size;
    k.emit(h === n && w === n ? k.src()[0]! : k.step({ kind: 'adaptiveavg', size: n, inputs: k.src() }));
  },
};

export const gap: OpDef<GapOp> = {
  kind: 'gap',
  infer: (_op, [x]) => ({ shape: [channels(x!)], params: 0 }),
  ...NO_WEIGHTS,
  ...NO_MACS,
  layer: (k) => k.apply(k.tf.layers.globalAveragePooling2d({ name: k.node.name })),
  program: (k) => k.emit(k.step({ kind: 'gap', inputs: k.src() })),
};
