import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { rng } from '../src/data/random.js';

// A multi-label data set, generated: 64×64 images holding 2 to 4 different digits (a 5×7 pixel font drawn 3 times
// its size, each in its own quarter of the image, moved at random within it), on a noisy dark ground; the labels of an
// image are the digits it shows. Written as images/NNNN.png and labels.csv (`path,labels`, labels separated by `;`).

const SIZE = 64;
const SCALE = 3;
const FONT: Record<string, readonly string[]> = {
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '3': ['11111', '00010', '00100', '00010', '00001', '10001', '01110'],
  '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  '7': ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  '8': ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  '9': ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
};
const DIGITS = Object.keys(FONT);

/** `k` different items of `xs`, drawn with `r`. */
function pick<T>(xs: readonly T[], k: number, r: () => number): T[] {
  const pool = [...xs];
  return Array.from({ length: k }, () => pool.splice(Math.floor(r() * pool.length), 1)[0]!);
}

/** One image: its digits drawn into their quarters, as a PNG. */
function draw(digits: readonly string[], r: () => number): Promise<Buffer> {
  const px = new Float32Array(SIZE * SIZE).map(() => 20 + 25 * r());
  const quarters = pick([0, 1, 2, 3], digits.length, r);
  digits.forEach((d, i) => {
    const q = quarters[i]!;
    const x0 = (q % 2) * 32 + Math.floor(r() * (32 - 5 * SCALE)),
      y0 = Math.floor(q / 2) * 32 + Math.floor(r() * (32 - 7 * SCALE));
    const ink = 170 + 85 * r();
    FONT[d]!.forEach((row, y) => {
      for (let x = 0; x < 5; x++)
        if (row[x] === '1')
          for (let dy = 0; dy < SCALE; dy++)
            for (let dx = 0; dx < SCALE; dx++) px[(y0 + y * SCALE + dy) * SIZE + x0 + x * SCALE + dx] = ink;
    });
  });
  const rgb = Buffer.alloc(SIZE * SIZE * 3);
  for (const [i, v] of px.entries())
    rgb.fill(Math.max(0, Math.min(255, Math.round(v + 12 * (r() - 0.5)))), 3 * i, 3 * i + 3);
  return sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toBuffer();
}

/** `n` images into `dir`/images and their labels into `dir`/labels.csv, seeded. */
export async function makeDigits(dir: string, n = 1000, seed = 7): Promise<void> {
  const r = rng(seed);
  fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
  const rows = ['path,labels'];
  for (let i = 0; i < n; i++) {
    const digits = pick(DIGITS, 2 + Math.floor(r() * 3), r).sort();
    const name = `images/${String(i).padStart(4, '0')}.png`;
    fs.writeFileSync(path.join(dir, name), await draw(digits, r));
    rows.push(`${name},${digits.join(';')}`);
  }
  fs.writeFileSync(path.join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
}

// `npx tsx scripts/multi-label-data.ts [DIR]` writes the set into DIR (recipes/multi-label/digits by default).
if (process.argv[1] === import.meta.filename) {
  const to = path.resolve(process.argv[2] ?? 'recipes/multi-label/digits');
  if (fs.existsSync(to)) throw new Error(`${to} exists; remove it first (nothing is overwritten)`);
  await makeDigits(to);
  console.log(`wrote ${to}: 1,000 images of 2 to 4 digits, labels.csv`);
}
