import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { rng } from '../src/data/random.js';

// An imbalanced single-label data set, generated (test/engines/imbalance.test.ts and recipes/imbalanced/ use it): three
// kinds of noisy grey patches whose brightness overlaps, `dark` and `light` common and `mid`, between them, rare (1
// image in 50 for training). A classifier that
// follows the training frequencies gives most of `mid` to its neighbours; balancing the classes gives it its band.
// Validation and test are balanced (their own folders), so balanced accuracy measures every class alike.

const SIZE = 32;
const LEVEL = { dark: 95, mid: 128, light: 161 } as const;

/** One 32×32 PNG: the class's brightness, moved per image (σ 8) and per pixel (σ 6). */
function patch(level: number, r: () => number): Promise<Buffer> {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const base = level + 8 * gauss();
  const px = Buffer.alloc(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) {
    const v = Math.max(0, Math.min(255, Math.round(base + 6 * gauss())));
    px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = v;
  }
  return sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toBuffer();
}

/** `dir`/train (dark 245, light 245, mid 10), /val (30 each) and /test (60 each), seeded. */
export async function makeImbalanced(dir: string, seed = 1): Promise<void> {
  const r = rng(seed);
  const parts = {
    train: { dark: 245, light: 245, mid: 10 },
    val: { dark: 30, light: 30, mid: 30 },
    test: { dark: 60, light: 60, mid: 60 },
  };
  for (const [part, counts] of Object.entries(parts))
    for (const [cls, n] of Object.entries(counts)) {
      const to = path.join(dir, part, cls);
      fs.mkdirSync(to, { recursive: true });
      for (let i = 0; i < n; i++)
        fs.writeFileSync(path.join(to, `${i}.png`), await patch(LEVEL[cls as keyof typeof LEVEL], r));
    }
}

// `npx tsx scripts/imbalanced-data.ts [DIR]` writes the set into DIR (recipes/imbalanced/patches by default).
if (process.argv[1] === import.meta.filename) {
  const to = path.resolve(process.argv[2] ?? 'recipes/imbalanced/patches');
  if (fs.existsSync(to)) throw new Error(`${to} exists; remove it first (nothing is overwritten)`);
  await makeImbalanced(to);
  console.log(`wrote ${to}: train (dark 245, light 245, mid 10), val (30 each), test (60 each)`);
}
