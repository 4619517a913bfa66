/** `order` cut `batch` at a time (evaluation's batches: every image once, in order). */
export function slices<T>(order: readonly T[], batch: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < order.length; i += batch) out.push(order.slice(i, i + batch));
  return out;
}

/**
 * How an epoch's order is cut into training batches, alike in every engine (the torch engine's
 * tlr_torch/batches.py says the same): `batch` at a time, except that a last batch of one image is
 * joined to the one before it. BatchNorm cannot normalise a single image whose feature map is 1×1
 * (PyTorch refuses; TF.js silently outputs the layer's offset), and a one-image step is the
 * noisiest update of the epoch.
 */
export function trainingBatches<T>(order: readonly T[], batch: number): T[][] {
  const out = slices(order, batch);
  const last = out.at(-1);
  if (batch > 1 && out.length > 1 && last?.length === 1) out[out.length - 2]!.push(...(out.pop() as T[]));
  return out;
}

/** How many training batches `n` images make (the count `trainingBatches` gives). */
export const trainingBatchCount = (n: number, batch: number): number =>
  n > batch && n % batch === 1 ? Math.floor(n / batch) : Math.ceil(n / batch);

/** Batches' float arrays as one, in order (a pass's outputs, a batch's images). */
export function concatFloats(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
