import { GraphBuilder, type Graph } from '../graph.js';

// MobileNet V1 and V2 as Keras applications build them (layer names, TF "same" padding, BatchNorm
// eps 1e-3), so TF.js weights from the Keras models load by name.
const EPS = 1e-3;

/** Keras MobileNet V1 at `width` and `inputSize`, with its classifier (conv_preds). */
export function mobilenetV1(width: number, inputSize: number): Graph {
  const g = new GraphBuilder(inputSize, 3, 'input_1');
  const f = (n: number) => Math.floor(n * width);
  g.block = 'stem';
  let x = g.conv('conv1', 'input_1', f(32), { kernel: 3, strides: 2, padding: 'same', bias: false });
  x = g.relu('conv1_relu', g.bn('conv1_bn', x, EPS, 0.99), true);
  const cfg: [number, number][] = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  cfg.forEach(([filters, stride], i) => {
    const id = i + 1;
    g.block = `block${id}`;
    x = g.depthwise(`conv_dw_${id}`, x, { kernel: 3, strides: stride, padding: 'same' });
    x = g.relu(`conv_dw_${id}_relu`, g.bn(`conv_dw_${id}_bn`, x, EPS, 0.99), true);
    x = g.conv(`conv_pw_${id}`, x, f(filters), { kernel: 1, padding: 'same', bias: false });
    x = g.relu(`conv_pw_${id}_relu`, g.bn(`conv_pw_${id}_bn`, x, EPS, 0.99), true);
  });
  g.block = 'pool';
  x = g.gap('global_average_pooling2d', x);
  g.block = 'classifier';
  // Keras uses a 1x1 conv (conv_preds) on a 1x1 map; as a dense layer it has the same weights.
  x = g.dense('conv_preds', g.dropout('dropout', x, 1e-3), 1000);
  return g.build(x);
}

const divisible = (v: number, d = 8): number => {
  const n = Math.max(d, Math.floor((v + d / 2) / d) * d);
  return n < 0.9 * v ? n + d : n;
};

/** Keras pads a stride-2 depthwise explicitly: ((k//2 - adjust), k//2) with adjust = 1 - size % 2. */
const correctPad = (size: number): [number, number, number, number] => {
  const adjust = 1 - (size % 2);
  return [1 - adjust, 1, 1 - adjust, 1];
};

/** Keras MobileNet V2 at `width` and `inputSize`, without top, then global average pooling. */
export function mobilenetV2(width: number, inputSize: number): Graph {
  const g = new GraphBuilder(inputSize, 3, 'input_1');
  g.block = 'stem';
  let x = g.zeropad('Conv1_pad', 'input_1', correctPad(inputSize));
  x = g.conv('Conv1', x, divisible(32 * width), { kernel: 3, strides: 2, padding: 'valid', bias: false });
  x = g.relu('Conv1_relu', g.bn('bn_Conv1', x, EPS, 0.999), true);
  const cfg: [t: number, c: number, n: number, s: number][] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  let id = 0;
  for (const [t, c, n, s] of cfg) {
    for (let j = 0; j < n; j++, id++) {
      const stride = j === 0 ? s : 1;
      const p = id === 0 ? 'expanded_conv' : `block_${id}`;
      g.block = id === 0 ? 'block0' : `block${id}`;
      const inp = x;
      const cin = g.shape(x)[2]!;
      const out = divisible(Math.floor(c * width)); // Keras truncates before rounding
      if (id > 0) {
        x = g.conv(`${p}_expand`, x, t * cin, { kernel: 1, padding: 'same', bias: false });
        x = g.relu(`${p}_expand_relu`, g.bn(`${p}_expand_BN`, x, EPS, 0.999), true);
      }
      if (stride === 2) x = g.zeropad(`${p}_pad`, x, correctPad(g.shape(x)[0]!));
      x = g.depthwise(`${p}_depthwise`, x, { kernel: 3, strides: stride, padding: stride === 2 ? 'valid' : 'same' });
      x = g.relu(`${p}_depthwise_relu`, g.bn(`${p}_depthwise_BN`, x, EPS, 0.999), true);
      x = g.bn(
        `${p}_project_BN`,
        g.conv(`${p}_project`, x, out, { kernel: 1, padding: 'same', bias: false }),
        EPS,
        0.999,
      );
      if (stride === 1 && cin === out) x = g.sum(`${p}_add`, inp, x);
    }
  }
  g.block = 'top';
  const last = width > 1 ? divisible(1280 * width) : 1280;
  x = g.conv('Conv_1', x, last, { kernel: 1, padding: 'valid', bias: false });
  x = g.relu('out_relu', g.bn('Conv_1_bn', x, EPS, 0.999), true);
  g.block = 'pool';
  x = g.gap('global_average_pooling2d', x);
  g.block = 'classifier';
  x = g.dense('predictions', x, 1000);
  return g.build(x);
}
