import { tf } from '../tf.js';

// Gradient kernels the wasm backend lacks, composed from operations it runs fast: strided slices
// and matrix products for the convolution filter gradient, multiply-and-sum for the depthwise
// filter gradient, and a depthwise convolution of the zero-dilated gradient with the rotated
// filter for the depthwise input gradient. With them, fine-tuning runs on wasm instead of cpu.

type Info = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
interface KernelArgs { inputs: Record<string, Info>; backend: tf.KernelBackend; attrs: Record<string, unknown> }

const BACKEND = 'wasm';
const incRef = (backend: tf.KernelBackend, id: object) => (backend as unknown as { incRef(id: object): void }).incRef(id);

/** A tensor view of a kernel input; it holds its own reference, so disposing it frees nothing else. */
function asTensor(backend: tf.KernelBackend, t: Info): tf.Tensor {
  incRef(backend, t.dataId);
  return tf.engine().makeTensorFromTensorInfo(t);
}

/** Hands a result computed with tf ops to the engine as a kernel output, without a leak. */
function output(backend: tf.KernelBackend, t: tf.Tensor): Info {
  incRef(backend, t.dataId);
  const info = { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
  t.dispose();
  return info;
}

interface Geometry { top: number; bottom: number; left: number; right: number; outH: number; outW: number; sh: number; sw: number }

function geometry(xShape: number[], filterShape: [number, number, number, number], strides: number | [number, number], pad: Pad, rounding: string | undefined, depthwise: boolean): Geometry {
  const info = depthwise
    ? tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape, strides, 1, pad as 'same', rounding as 'round', true)
    : tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape, strides, 1, pad as 'same', rounding as 'round');
  const p = info.padInfo;
  return { top: p.top, bottom: p.bottom, left: p.left, right: p.right, outH: info.outHeight, outW: info.outWidth, sh: info.strideHeight, sw: info.strideWidth };
}

/** The input window that meets filter tap (kh, kw) at every output position: [N, outH, outW, C]. */
function tap(xp: tf.Tensor4D, kh: number, kw: number, g: Geometry): tf.Tensor4D {
  const [n, , , c] = xp.shape;
  // Stride 1 (most layers) is a plain slice, which wasm copies far faster than a strided one.
  if (g.sh === 1 && g.sw === 1) return tf.slice(xp, [0, kh, kw, 0], [n, g.outH, g.outW, c]);
  return tf.stridedSlice(xp, [0, kh, kw, 0], [n, kh + (g.outH - 1) * g.sh + 1, kw + (g.outW - 1) * g.sw + 1, c], [1, g.sh, g.sw, 1]) as tf.Tensor4D;
}

const padded = (x: tf.Tensor4D, g: Geometry): tf.Tensor4D =>
  g.top || g.bottom || g.left || g.right ? tf.pad(x, [[0, 0], [g.top, g.bottom], [g.left, g.right], [0, 0]]) : x;

/**
 * A filter gradient, one filter tap at a time: `perTap` gets the input window that meets tap
 * (kh, kw) at every output position, flattened to [positions, C], and the flattened gradient.
 */
function filterGradient({ inputs, backend, attrs }: KernelArgs, depthwise: boolean, perTap: (window: tf.Tensor2D, dy: tf.Tensor2D, shape: number[]) => tf.Tensor): Info {
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  if ((attrs['dataFormat'] ?? 'NHWC') !== 'NHWC') throw new Error('tlr\'s wasm gradient kernels support NHWC only');
  const r = tf.tidy(() => {
    const x = asTensor(backend, inputs['x']!) as tf.Tensor4D, dy = asTensor(backend, inputs['dy']!) as tf.Tensor4D;
    const g = geometry(x.shape, filterShape, attrs['strides'] as [number, number], attrs['pad'] as Pad, attrs['dimRoundingMode'] as string, depthwise);
    const [kh, kw, ci] = filterShape;
    const m = dy.shape[0] * g.outH * g.outW;
    const dy2 = dy.reshape([m, dy.shape[3]]) as tf.Tensor2D;
    const xp = padded(x, g);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(perTap(tap(xp, i, j, g).reshape([m, ci]) as tf.Tensor2D, dy2, filterShape));
    return tf.stack(taps).reshape(filterShape);
  });
  return output(backend, r);
}

// dW[kh, kw] = window^T . dy: one matrix product per tap.
const conv2dBackpropFilter = (a: KernelArgs): Info => filterGradient(a, false, (w, dy) => tf.matMul(w, dy, true, false));

// dW[kh, kw, c, m] = sum over positions of window[c] * dy[c * mult + m].
const depthwiseBackpropFilter = (a: KernelArgs): Info =>
  filterGradient(a, true, (w, dy, [, , c, mult]) => {
    const prod = tf.mul(w.reshape([-1, c!, 1]), dy.reshape([-1, c!, mult!])).reshape([-1, c! * mult!]);
    // A column sum as a product with ones: wasm would transpose for sum(0).
    return tf.matMul(tf.ones([1, prod.shape[0]]), prod);
  });

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): Info {
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  const r = tf.tidy(() => {
    const dy = asTensor(backend, inputs['dy']!) as tf.Tensor4D, filter = asTensor(backend, inputs['filter']!) as tf.Tensor4D;
    const [kh, kw, c, mult] = filter.shape;
    const g = geometry(inputShape, filter.shape, attrs['strides'] as [number, number], attrs['pad'] as Pad, attrs['dimRoundingMode'] as string, true);
    const [n, h, w] = inputShape;
    // Put the gradient back on the input grid: zeros between rows and columns for strides.
    let d: tf.Tensor4D = dy;
    if (g.sh > 1 || g.sw > 1) {
      const [, oh, ow, ch] = dy.shape;
      d = tf.pad(dy.reshape([n, oh, 1, ow, 1, ch]), [[0, 0], [0, 0], [0, g.sh - 1], [0, 0], [0, g.sw - 1], [0, 0]])
        .reshape([n, oh * g.sh, ow * g.sw, ch])
        .slice([0, 0, 0, 0], [n, (oh - 1) * g.sh + 1, (ow - 1) * g.sw + 1, ch]) as tf.Tensor4D;
    }
    // dx[i] = sum_k d[i + top - k] * w[k]: a valid correlation of d, padded, with the rotated filter.
    const fit = (len: number, k: number, before: number, size: number): [number, number] => [k - 1 - before, size - len - (k - 1 - before) + k - 1];
    const [pt, pb] = fit(d.shape[1], kh, g.top, h), [pl, pr] = fit(d.shape[2], kw, g.left, w);
    const cropStart = [Math.max(0, -pt), Math.max(0, -pl)];
    d = tf.pad(d, [[0, 0], [Math.max(0, pt), Math.max(0, pb)], [Math.max(0, pl), Math.max(0, pr)], [0, 0]]);
    if (pt < 0 || pb < 0 || pl < 0 || pr < 0) {
      d = d.slice([0, cropStart[0]!, cropStart[1]!, 0], [n, h + kh - 1, w + kw - 1, -1]);
    }
    const rotated = tf.reverse(filter, [0, 1]);
    if (mult === 1) return tf.depthwiseConv2d(d, rotated as tf.Tensor4D, 1, 'valid');
    // With a channel multiplier, input channel c gathers the gradients of its `mult` outputs.
    const parts: tf.Tensor4D[] = [];
    for (let k = 0; k < mult; k++) {
      const idx = Array.from({ length: c }, (_, ch) => ch * mult + k);
      parts.push(tf.depthwiseConv2d(tf.gather(d, idx, 3) as tf.Tensor4D, rotated.slice([0, 0, 0, k], [kh, kw, c, 1]) as tf.Tensor4D, 1, 'valid'));
    }
    return tf.addN(parts);
  });
  return output(backend, r);
}

const KERNELS: Record<string, (a: KernelArgs) => Info> = {
  Conv2DBackpropFilter: conv2dBackpropFilter,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
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
