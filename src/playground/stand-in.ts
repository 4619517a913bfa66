import type { ProbeResult } from '../data/formats/index.js';

// The playground has no file system, so every data folder a recipe names stands for a made-up data set: as many
// classes as the head's last dense layer has units (2 without a head), 100 images each; or, when the head says
// `multi-label`, as many labels, on 100 images a label, each image with two neighbouring labels (a CSV's labels).

/** The stand-in's shape, read from the recipe's last head line: its classes (or labels), and whether multi-label. */
export function standInShape(text: string): { readonly k: number; readonly multi: boolean } {
  const head = [...text.matchAll(/^\s*head\b([^#\n]*)/gm)].pop()?.[1] ?? '';
  const units = [...head.matchAll(/dense\(\s*(\d+)/g)].pop()?.[1];
  return { k: Math.min(Math.max(Number(units ?? 2), 2), 1000), multi: /(^|\s)multi-label\s*$/.test(head) };
}

/** The stand-in for a data folder (or labels file) at `abs`. */
export const standIn =
  ({ k, multi }: { k: number; multi: boolean }) =>
  (abs: string): ProbeResult => {
    if (!multi) {
      const train = Array.from({ length: k }, (_, i) => ({ name: `class${i + 1}`, where: abs, images: 100 }));
      return { ok: true, info: { path: abs, format: 'folders', splits: { train } } };
    }
    // 100 × k images, image i with labels i mod k and i + 1 mod k: every label on 200 images.
    const labelSets = Array.from({ length: 100 * k }, (_, i) => [i % k, (i + 1) % k].sort((a, b) => a - b));
    const train = Array.from({ length: k }, (_, i) => ({ name: `label${i + 1}`, where: abs, images: 200 }));
    return { ok: true, info: { path: abs, format: 'csv', splits: { train }, labelSets } };
  };
