import { tf } from '../../src/engines/tfjs/tf.js';
import { rng } from './random.js';

// Random convolutions and their gradients on a named backend, for comparing one backend's (or
// kernel set's) convolutions with the cpu backend's.

export type ConvCase = {
  n: number;
  h: number;
  w: number;
  c: number;
  k: number;
  s: number;
  pad: 'same' | 'valid' | number;
  co: number;
  mult: number;
};

export function convCases(seed: number, count: number): ConvCase[] {
  const r = rng(seed),
    pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: count }, () => {
    const k = pick([1, 3, 5]),
      h = k + Math.floor(r() * 9),
      w = k + Math.floor(r() * 9);
    return {
      n: 1 + Math.floor(r() * 3),
      h,
      w,
      c: 1 + Math.floor(r() * 6),
      k,
      s: pick([1, 2, 3]),
      pad: pick(['same', 'valid', 0, 1, 2] as const),
      co: 1 + Math.floor(r() * 7),
      mult: pick([1, 1, 2]),
    };
  });
}

/** The output and the gradients of sum(f(x, w) * random) for x and w, computed on `backend`. */
export async function convGrads(
  backend: string,
  f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D,
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  ws: number[],
  dySeed: number,
) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs as [number, number, number, number]),
      wt = tf.tensor4d(w, ws as [number, number, number, number]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const y = f(a as tf.Tensor4D, b as tf.Tensor4D);
      return y.mul(tf.randomUniform(y.shape, -1, 1, 'float32', dySeed)).sum();
    });
    return [f(xt, wt), ...g([xt, wt])].map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
  });
}

/** The largest difference relative to the largest magnitude of `b`. */
export const relativeError = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0,
    scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return worst / scale;
};

/** Runs `count` random cases of `op` on `backend` and on cpu; returns each mismatch (above `tol`) as a line. */
export async function convMismatches(
  backend: string,
  seed: number,
  count: number,
  op: (x: tf.Tensor4D, w: tf.Tensor4D, c: ConvCase) => tf.Tensor4D,
  filterShape: (c: ConvCase) => number[],
  tol = 1e-4,
): Promise<string[]> {
  const bad: string[] = [];
  for (const c of convCases(seed, count)) {
    const r = rng(c.h * 131 + c.w * 7 + c.c);
    const xs = [c.n, c.h, c.w, c.c],
      ws = filterShape(c);
    const x = Float32Array.from({ length: c.n * c.h * c.w * c.c }, () => r() * 2 - 1),
      w = Float32Array.from({ length: ws.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) => op(a, b, c);
    const cpu = await convGrads('cpu', f, x, xs, w, ws, seed + 4),
      other = await convGrads(backend, f, x, xs, w, ws, seed + 4);
    ['output', 'input gradient', 'filter gradient'].forEach((what, i) => {
      if (JSON.stringify(other[i]!.shape) !== JSON.stringify(cpu[i]!.shape))
        bad.push(`${JSON.stringify(c)} ${what}: shape ${other[i]!.shape} vs ${cpu[i]!.shape}`);
      else if (!(relativeError(other[i]!.data, cpu[i]!.data) < tol))
        bad.push(`${JSON.stringify(c)} ${what}: off by ${relativeError(other[i]!.data, cpu[i]!.data)}`);
    });
  }
  return bad;
}
