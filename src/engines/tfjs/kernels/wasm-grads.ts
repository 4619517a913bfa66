import { tf } from '../tf.js';
import { asTensor, output, type Info, type KernelArgs } from './handoff.js';

// Gradient kernels for the wasm backend, each one convolution XNNPACK runs fast: the filter
// gradients as a correlation of the input with the output gradient (batch and channels swapped,
// dilated by the stride), the input gradients as a convolution of the gradient, put back on the
// input grid, with the rotated filter. wasm lacks three of them; its Conv2DBackpropInput is a
// scalar loop, replaced too (see wasm-overrides.ts). With them, fine-tuning runs on wasm.

const BACKEND = 'wasm';

interface Geometry {
  top: number;
  bottom: number;
  left: number;
  right: number;
  outH: number;
  outW: number;
  sh: number;
  sw: number;
}

function geometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: KernelArgs['attrs'],
  depthwise: boolean,
): Geometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as [number, number],
    1,
    attrs['pad'] as 'same',
    attrs['dimRoundingMode'] as 'round',
    depthwise,
  );
  const p = info.padInfo;
  return {
    top: p.top,
    bottom: p.bottom,
    left: p.left,
    right: p.right,
    outH: info.outHeight,
    outW: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
  };
}

/**
 * A convolution gradient kernel written with tf ops: `body` gets the kernel's inputs as tensors
 * and the convolution's geometry (from the input and filter shapes, given or as attributes).
 */
function gradientKernel(
  depthwise: boolean,
  body: (t: Record<string, tf.Tensor4D>, g: Geometry, attrs: KernelArgs['attrs']) => tf.Tensor,
): (a: KernelArgs) => Info {
  return ({ inputs, backend, attrs }) => {
    if ((attrs['dataFormat'] ?? 'NHWC') !== 'NHWC') throw new Error("tlr's wasm gradient kernels support NHWC only");
    const r = tf.tidy(() => {
      const t = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, asTensor(backend, v) as tf.Tensor4D]));
      const xShape = (attrs['inputShape'] as number[] | undefined) ?? t['x']!.shape;
      const filterShape = (attrs['filterShape'] as number[] | undefined) ?? t['filter']!.shape;
      return body(t, geometry(xShape, filterShape, attrs, depthwise), attrs);
    });
    return output(backend, r);
  };
}

const padded = (x: tf.Tensor4D, g: Geometry): tf.Tensor4D =>
  g.top || g.bottom || g.left || g.right
    ? tf.pad(x, [
        [0, 0],
        [g.top, g.bottom],
        [g.left, g.right],
        [0, 0],
      ])
    : x;

/**
 * dW[kh, kw, ci, co] = sum over n, i, j of xp[n, i*s + kh, j*s + kw, ci] * dy[n, i, j, co]: a
 * correlation of the padded input with the output gradient, dilated by the stride, reducing over
 * the batch. With ci as the batch and n as the channels, that is one convolution (XNNPACK) whose
 * filter is the gradient; its first kh x kw outputs are the filter gradient. Taking the taps one
 * slice at a time and multiplying each was 1.4 to 24 times slower on wasm.
 */
const conv2dBackpropFilter = gradientKernel(false, ({ x, dy }, g, attrs) => {
  const [kh, kw, ci, co] = attrs['filterShape'] as [number, number, number, number];
  const input = padded(x!, g).transpose([3, 1, 2, 0]) as tf.Tensor4D;
  const filter = dy!.transpose([1, 2, 0, 3]) as tf.Tensor4D;
  const out = tf.conv2d(input, filter, 1, 'valid', 'NHWC', [g.sh, g.sw]);
  return out.slice([0, 0, 0, 0], [ci, kh, kw, co]).transpose([1, 2, 0, 3]);
});

/**
 * dW[kh, kw, c, m] = sum over n, i, j of xp[n, i*s + kh, j*s + kw, c] * dy[n, i, j, c*mult + m]: for
 * each (n, c) a correlation of the padded input with the output gradient, dilated by the stride.
 * With the batch moved into the channels, that is one depthwise convolution (XNNPACK) whose
 * filter is the gradient; its first kh x kw outputs, summed over the batch, are the filter
 * gradient. Taking the taps one slice at a time instead was 4 to 30 times slower on wasm.
 */
const depthwiseBackpropFilter = gradientKernel(true, ({ x, dy }, g, attrs) => {
  const [kh, kw, c, mult] = attrs['filterShape'] as [number, number, number, number];
  const xp = padded(x!, g);
  const [n, hp, wp] = xp.shape;
  const input = xp.transpose([1, 2, 0, 3]).reshape([1, hp, wp, n * c]) as tf.Tensor4D;
  const filter = dy!.transpose([1, 2, 0, 3]).reshape([g.outH, g.outW, n * c, mult]) as tf.Tensor4D;
  const out = tf.depthwiseConv2d(input, filter, 1, 'valid', 'NHWC', [g.sh, g.sw]);
  return out
    .slice([0, 0, 0, 0], [1, kh, kw, -1])
    .reshape([kh, kw, n, c * mult])
    .sum(2)
    .reshape([kh, kw, c, mult]);
});

/**
 * The output gradient put back on the input grid for a stride-1 'valid' correlation with the
 * rotated filter: zeros between rows and columns for strides, then padding (or cropping) so that
 * dx[i] = sum_k d[i + top - k] * w[k] comes out at the input's size.
 */
function onInputGrid(dy: tf.Tensor4D, g: Geometry, kh: number, kw: number, inputShape: readonly number[]): tf.Tensor4D {
  const [n, h, w] = inputShape as [number, number, number];
  let d: tf.Tensor4D = dy;
  if (g.sh > 1 || g.sw > 1) {
    const [, oh, ow, ch] = dy.shape;
    d = tf
      .pad(dy.reshape([n, oh, 1, ow, 1, ch]), [
        [0, 0],
        [0, 0],
        [0, g.sh - 1],
        [0, 0],
        [0, g.sw - 1],
        [0, 0],
      ])
      .reshape([n, oh * g.sh, ow * g.sw, ch])
      .slice([0, 0, 0, 0], [n, (oh - 1) * g.sh + 1, (ow - 1) * g.sw + 1, ch]) as tf.Tensor4D;
  }
  const fit = (len: number, k: number, before: number, size: number): [number, number] => [
    k - 1 - before,
    size - len - (k - 1 - before) + k - 1,
  ];
  const [pt, pb] = fit(d.shape[1], kh, g.top, h),
    [pl, pr] = fit(d.shape[2], kw, g.left, w);
  if (pt || pb || pl || pr)
    d = tf.pad(d, [
      [0, 0],
      [Math.max(0, pt), Math.max(0, pb)],
      [Math.max(0, pl), Math.max(0, pr)],
      [0, 0],
    ]);
  if (pt < 0 || pb < 0 || pl < 0 || pr < 0)
    d = d.slice([0, Math.max(0, -pt), Math.max(0, -pl), 0], [n, h + kh - 1, w + kw - 1, -1]);
  return d;
}

/**
 * The filter turned half a circle (its kh x kw taps in reverse order) as a product with the
 * reversing permutation matrix: wasm's Reverse moves one element at a time (70 ms for ResNet's
 * 3x3x512x512), XNNPACK's product takes 5 ms, and multiplying by 1 and adding zeros is exact.
 */
function rotated(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, a, b] = filter.shape,
    taps = kh * kw;
  if (taps === 1) return filter;
  const flip = tf.buffer([taps, taps], 'float32');
  for (let i = 0; i < taps; i++) flip.set(1, i, taps - 1 - i);
  return tf.matMul(flip.toTensor(), filter.reshape([taps, a * b])).reshape([kh, kw, a, b]);
}

const depthwiseBackpropInput = gradientKernel(true, ({ dy, filter }, g, attrs) => {
  const [kh, kw, c, mult] = filter!.shape;
  const d = onInputGrid(dy!, g, kh, kw, attrs['inputShape'] as number[]);
  const turned = rotated(filter!);
  if (mult === 1) return tf.depthwiseConv2d(d, turned, 1, 'valid');
  // With a channel multiplier, input channel c gathers the gradients of its `mult` outputs.
  const parts: tf.Tensor4D[] = [];
  for (let k = 0; k < mult; k++) {
    const idx = Array.from({ length: c }, (_, ch) => ch * mult + k);
    parts.push(
      tf.depthwiseConv2d(
        tf.gather(d, idx, 3) as tf.Tensor4D,
        turned.slice([0, 0, 0, k], [kh, kw, c, 1]) as tf.Tensor4D,
        1,
        'valid',
      ),
    );
  }
  return tf.addN(parts);
});

/**
 * Conv2DBackpropInput as a plain convolution (XNNPACK) of the gradient on the input grid with the
 * rotated filter, its channels swapped. wasm has this kernel, but as a scalar loop about ten times
 * slower: a 1x1 layer's input gradient took 19 ms where the same-sized convolution takes 2.
 */
const conv2dBackpropInput = gradientKernel(false, ({ dy, filter }, g, attrs) => {
  const [kh, kw] = filter!.shape;
  const w = rotated(filter!).transpose([0, 1, 3, 2]) as tf.Tensor4D;
  return tf.conv2d(onInputGrid(dy!, g, kh, kw, attrs['inputShape'] as number[]), w, 1, 'valid');
});

const KERNELS: Record<string, (a: KernelArgs) => Info> = {
  Conv2DBackpropFilter: conv2dBackpropFilter,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
};

/** Kernels wasm has, replaced by faster ones built the same way. */
export const REPLACEMENTS: Record<string, (a: KernelArgs) => Info> = {
  Conv2DBackpropInput: conv2dBackpropInput,
};

/** Registers the kernels the wasm backend does not have; idempotent. */
export function registerWasmGradients(): string[] {
  const added: string[] = [];
  for (const [kernelName, f] of Object.entries(KERNELS)) {
    if (tf.getKernel(kernelName, BACKEND)) continue;
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc: f as unknown as tf.KernelFunc });
    added.push(kernelName);
  }
  return added;
}
