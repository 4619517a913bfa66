// Bit-for-bit twin of `value()` in scripts/torchvision-fixtures.py: tensors filled from an integer
// hash of their name, so reference outputs need no stored weights.

const fnv1a = (s: string): number => {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
};

export function uniform(name: string, n: number): Float64Array {
  const seed = fnv1a(name),
    out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = (seed + Math.imul(i + 1, 0x6d2b79f5)) >>> 0;
    t = Math.imul(t ^ (t >>> 15), t | 1) >>> 0;
    t = (t ^ ((t + Math.imul(t ^ (t >>> 7), t | 61)) >>> 0)) >>> 0;
    t = (t ^ (t >>> 14)) >>> 0;
    out[i] = ((t >>> 8) / 16777216) * 2 - 1;
  }
  return out;
}

export type Kind = 'weight' | 'bias' | 'gamma' | 'mean' | 'var' | 'input';

export function value(name: string, shape: readonly number[], kind: Kind): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = uniform(name, n);
  const out = new Float32Array(n);
  const fanIn = n / shape[0]!;
  const scale = kind === 'weight' ? Math.sqrt(6 / fanIn) : 0;
  for (let i = 0; i < n; i++) {
    const x = u[i]!;
    out[i] =
      kind === 'weight'
        ? x * scale
        : kind === 'bias' || kind === 'mean'
          ? x * 0.1
          : kind === 'gamma'
            ? 1 + x * 0.1
            : kind === 'var'
              ? 1.25 + x * 0.25
              : x;
  }
  return out;
}
