import { rng } from './random.js';
import type { SplitPercent } from './split-counts.js';

// Splitting multi-label data so that every label appears in every part: iterative stratification (Sechidis,
// Tsoumakas and Vlahavas, "On the stratification of multi-label data", ECML PKDD 2011). Each part wants its share of
// every label's images; the label with the fewest images left is placed first, each of its images going to the part
// that wants that label most (then the part that wants the most images, then a seeded draw). Images with no label go
// where the most images are wanted. Shared by the checker (the plan's counts) and the runtime (the images themselves),
// which must agree exactly.

/** The parts in order; a part of 0% takes nothing. */
export const PARTS = ['train', 'validation', 'test'] as const;
export type Part = (typeof PARTS)[number];

/** Each image's part (0 train, 1 validation, 2 test), for images given by their label sets (indices < `labels`). */
export function stratify(
  sets: readonly (readonly number[])[],
  labels: number,
  p: SplitPercent,
  seed: number,
): Uint8Array {
  const r = rng(seed);
  const share = PARTS.map((k) => p[k] / 100);
  const open = PARTS.map((_, j) => share[j]! > 0);
  const wanted = share.map((s) => s * sets.length);
  const byLabel: number[][] = Array.from({ length: labels }, () => []);
  sets.forEach((s, i) => {
    for (const l of s) byLabel[l]!.push(i);
  });
  const wantedOf = byLabel.map((xs) => share.map((s) => s * xs.length));
  const left = byLabel.map((xs) => xs.length);
  const part = new Uint8Array(sets.length).fill(255);
  const best = (score: (j: number) => number, among: number[]) => {
    const top = Math.max(...among.map(score));
    return among.filter((j) => score(j) === top);
  };
  const place = (i: number, j: number) => {
    part[i] = j;
    wanted[j]! -= 1;
    for (const l of sets[i]!) {
      wantedOf[l]![j]! -= 1;
      left[l]! -= 1;
    }
  };
  const parts = [0, 1, 2].filter((j) => open[j]);
  for (;;) {
    let l = -1;
    for (let k = 0; k < labels; k++) if (left[k]! > 0 && (l < 0 || left[k]! < left[l]!)) l = k;
    if (l < 0) break;
    for (const i of byLabel[l]!) {
      if (part[i] !== 255) continue;
      const ties = best(
        (j) => wanted[j]!,
        best((j) => wantedOf[l]![j]!, parts),
      );
      place(i, ties.length === 1 ? ties[0]! : ties[Math.floor(r() * ties.length)]!);
    }
  }
  sets.forEach((s, i) => {
    if (part[i] === 255 && !s.length) place(i, best((j) => wanted[j]!, parts)[0]!);
  });
  return part;
}

/** Images per label in each part, and images per part, for a stratification. */
export function partCounts(
  sets: readonly (readonly number[])[],
  labels: number,
  part: Uint8Array,
): { readonly counts: Record<Part, number[]>; readonly images: Record<Part, number> } {
  const counts = {
    train: new Array(labels).fill(0),
    validation: new Array(labels).fill(0),
    test: new Array(labels).fill(0),
  };
  const images = { train: 0, validation: 0, test: 0 };
  sets.forEach((s, i) => {
    const k = PARTS[part[i]!]!;
    images[k] += 1;
    for (const l of s) counts[k][l] += 1;
  });
  return { counts, images };
}
