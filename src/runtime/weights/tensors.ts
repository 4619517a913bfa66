import { TlrError } from '../../errors.js';
// Weights as plain arrays, independent of any file format: what readers produce and assign consumes.

export interface RawTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Name (Keras style, `layer/kernel`) to tensor. */
export type WeightMap = Map<string, RawTensor>;

/** Weights that cannot be found, read or fitted; `details` lists what is missing, unexpected or shaped differently. */
export class WeightsError extends TlrError {
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(details.length ? `${message}\n  ${details.join('\n  ')}` : message);
  }
}

/** IEEE half precision (binary16) to a number. */
export function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** The number of elements of a shape. */
export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Permutes a dense row-major array: out[perm-indexed] = in; `perm[i]` is the input axis of output axis i. */
export function transpose(t: RawTensor, perm: readonly number[]): RawTensor {
  const inShape = t.shape,
    rank = inShape.length;
  const outShape = perm.map((p) => inShape[p]!);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= inShape[i]!;
  }
  const stride = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(t.data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i]! * stride[i]!;
    out[o] = t.data[src]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < outShape[i]!) break;
      idx[i] = 0;
    }
  }
  return { shape: outShape, data: out };
}
