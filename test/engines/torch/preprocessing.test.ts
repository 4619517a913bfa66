import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAsync } from '../../helpers/cli.js';
import { findTorchPython, hasTorch, engineEnv } from '../../../src/engines/torch/python.js';
import { decodeRgb } from '../../../src/runtime/images/image.js';
import { fixedTaps, resizeRgb, taps } from '../../../src/runtime/images/resize.js';
import { rng } from '../../../src/data/random.js';
import { SHARED } from '../../helpers/shared.js';

// Both engines see the same pixels: sharp + resize.ts here, Pillow + resize.py in the torch engine,
// on photographs (shrunk), small images (enlarged), EXIF-rotated, grey and transparent ones.
// Skipped, saying so, where no Python with torch is found.

const py = await findTorchPython();
const why = hasTorch(py) ? null : `no Python with torch (${py.tried.join('; ')})`;
if (why) console.warn(`skipping the preprocessing agreement tests: ${why}`);
const d = why ? describe.skip : describe;
const python = hasTorch(py) ? py.python : 'python3';

let dir = '';

/** A photograph-like image: gradients, edges, fine texture and noise. */
function photo(w: number, h: number, seed: number): Buffer {
  const r = rng(seed),
    px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const v =
          128 +
          90 * Math.sin((x * (c + 1)) / 17 + y / 23) +
          (x > w / 3 && y < h / 2 ? 40 : -20) +
          25 * Math.sin((x * y) / 50) +
          (r() - 0.5) * 60;
        px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
  return px;
}

const raw = (w: number, h: number, channels: 1 | 3 | 4 = 3) => ({ raw: { width: w, height: h, channels } });

async function makeImages(): Promise<Record<string, string>> {
  const f = (n: string) => path.join(dir, n);
  await sharp(photo(517, 389, 1), raw(517, 389))
    .jpeg({ quality: 90 })
    .toFile(f('photo.jpg'));
  await sharp(photo(300, 200, 2), raw(300, 200))
    .png()
    .toFile(f('wide.png'));
  await sharp(photo(13, 9, 3), raw(13, 9))
    .png()
    .toFile(f('tiny.png'));
  await sharp(photo(640, 480, 4), raw(640, 480))
    .jpeg({ quality: 85 })
    .withMetadata({ orientation: 6 })
    .toFile(f('rotated.jpg'));
  const grey = Buffer.from(photo(50, 70, 5).filter((_, i) => i % 3 === 0));
  await sharp(grey, raw(50, 70, 1))
    .png()
    .toFile(f('grey.png'));
  const rgb = photo(64, 48, 6),
    rgba = Buffer.alloc(64 * 48 * 4);
  for (let i = 0; i < 64 * 48; i++) {
    rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
    rgba[i * 4 + 3] = i % 7 === 0 ? 0 : 200;
  }
  await sharp(rgba, raw(64, 48, 4))
    .png()
    .toFile(f('alpha.png'));
  // Large JPEGs, decoded at a reduced size by both (tlr-lanczos3/3): 1/2 to 1/4 at 224 px, 1/8 at 32; progressive,
  // full chroma and grey ones too.
  await sharp(photo(1000, 900, 7), raw(1000, 900))
    .jpeg({ quality: 92 })
    .toFile(f('large.jpg'));
  await sharp(photo(960, 720, 8), raw(960, 720))
    .jpeg({ quality: 80, progressive: true })
    .toFile(f('progressive.jpg'));
  await sharp(photo(900, 1000, 9), raw(900, 1000))
    .jpeg({ quality: 90, chromaSubsampling: '4:4:4' })
    .toFile(f('full-chroma.jpg'));
  await sharp(Buffer.from(photo(700, 600, 10).filter((_, i) => i % 3 === 0)), raw(700, 600, 1))
    .jpeg({ quality: 90 })
    .toFile(f('grey.jpg'));
  const names = ['photo.jpg', 'wide.png', 'tiny.png', 'rotated.jpg', 'grey.png', 'alpha.png'];
  names.push('large.jpg', 'progressive.jpg', 'full-chroma.jpg', 'grey.jpg');
  const images: Record<string, string> = Object.fromEntries(names.map((n) => [n, f(n)]));
  const hopper = path.join(SHARED, 'images', 'grace_hopper.jpg');
  if (fs.existsSync(hopper)) images['grace_hopper.jpg'] = hopper;
  else console.warn(`the preprocessing test runs without ${hopper} (a real photograph; see ../shared/README)`);
  return images;
}

/** The torch engine's pixels (tlr_torch.data.decode) for each image at `size`, as bytes. */
async function torchPixels(files: readonly string[], size: number): Promise<Buffer[]> {
  const out = path.join(dir, `torch-${size}.bin`);
  const r = await spawnAsync(
    python,
    [
      '-c',
      `
import json, sys
from tlr_torch.data import Item, decode
with open(sys.argv[1], 'wb') as f:
    for p in json.loads(sys.argv[2]):
        f.write((decode(Item(p, 0), ${size}).permute(1, 2, 0) * 255).round().byte().numpy().tobytes())`,
      out,
      JSON.stringify(files),
    ],
    { env: engineEnv(process.env), encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
  const all = fs.readFileSync(out),
    n = size * size * 3;
  return files.map((_, i) => all.subarray(i * n, (i + 1) * n));
}

d('preprocessing: the same pixels in both engines', () => {
  let images: Record<string, string> = {};
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-pre-'));
    images = await makeImages();
    // An MPO (a phone's JPEG with a second picture after the first), which Pillow names apart: written by Pillow.
    images['phone.mpo'] = path.join(dir, 'phone.mpo');
    const mpo = await spawnAsync(
      python,
      [
        '-c',
        `import sys, numpy as np
from PIL import Image
r = np.random.default_rng(1)
a, b = (Image.fromarray((r.random((600, 800, 3)) * 255).astype('uint8')) for _ in range(2))
a.save(sys.argv[1], format='MPO', save_all=True, append_images=[b], quality=90)`,
        images['phone.mpo'],
      ],
      { encoding: 'utf8' },
    );
    expect(mpo.status, mpo.stderr).toBe(0);
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([224, 32])(
    'the same bytes at %i px (shrunk, enlarged, rotated, grey, transparent, large JPEGs reduced)',
    async (size) => {
      const names = Object.keys(images);
      const theirs = await torchPixels(
        names.map((n) => images[n]!),
        size,
      );
      for (const [i, name] of names.entries()) {
        const ours = await decodeRgb(images[name]!, size);
        let worst = 0,
          off = 0;
        ours.forEach((v, k) => {
          const dv = Math.abs(v - theirs[i]![k]!);
          worst = Math.max(worst, dv);
          if (dv) off++;
        });
        // tlr-lanczos3 sums integers: the same bytes exactly, whatever order either engine adds them in; a large JPEG
        // is decoded at the same reduced size by the same library (libjpeg-turbo) in both.
        expect(worst, `${name} at ${size} px: ${off} of ${ours.length} values differ`).toBe(0);
      }
    },
    60_000,
  );

  it('the rotated JPEG is turned upright by both (its EXIF orientation is applied)', async () => {
    const upright = await decodeRgb(images['rotated.jpg']!, 48);
    const meta = await sharp(images['rotated.jpg']!).metadata();
    expect(meta.orientation).toBe(6);
    // Rotated a quarter turn, the 640x480 photo is 480 wide: its first column of the unrotated
    // photo is now its first row. Squashed to a square both ways, the two still differ.
    const unrotated = resizeRgb(
      new Uint8Array(await sharp(images['rotated.jpg']!).removeAlpha().raw().toBuffer()),
      640,
      480,
      48,
      48,
    );
    expect(Buffer.from(upright).equals(Buffer.from(unrotated))).toBe(false);
  });
});

describe('the resizer', () => {
  it('keeps a flat image flat and an image of the output size as it is', () => {
    const flat = new Uint8Array(37 * 23 * 3).fill(91);
    expect(Array.from(new Set(resizeRgb(flat, 37, 23, 16, 50)))).toEqual([91]);
    const same = Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => i % 251);
    expect(resizeRgb(same, 8, 8, 8, 8)).toBe(same);
  });

  it("averages every source pixel when shrinking: each output's weights span 6 x scale pixels and sum to 1", () => {
    const t = taps(1000, 100);
    const n = t.count[50]!,
      w = t.weights.subarray(50 * t.width, 50 * t.width + n);
    expect(n).toBeGreaterThanOrEqual(59);
    expect(n).toBeLessThanOrEqual(61);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // A one-pixel line survives shrinking (a nearest or unstretched kernel could miss it).
    const line = new Uint8Array(100 * 4 * 3);
    for (let y = 0; y < 4; y++) line.fill(255, (y * 100 + 55) * 3, (y * 100 + 56) * 3);
    expect(Math.max(...resizeRgb(line, 100, 4, 10, 4))).toBeGreaterThan(10);
  });

  it("holds each pixel's weights as whole numbers of 1/2^14 that add up to exactly 2^14", () => {
    for (const [a, b] of [
      [320, 224],
      [13, 224],
      [1000, 7],
      [224, 224 + 1],
    ] as const) {
      const t = fixedTaps(a, b);
      for (let i = 0; i < b; i++) {
        const w = t.weights.subarray(i * t.width, i * t.width + t.count[i]!);
        expect(
          w.reduce((x, y) => x + y, 0),
          `${a}>${b} pixel ${i}`,
        ).toBe(1 << 14);
      }
    }
  });

  it('is within one level of tlr-lanczos3/1 (float64, rounded once), whose models tlr still reads', () => {
    const f64 = (src: Uint8Array, w: number, h: number, ow: number, oh: number) => {
      // Across the rows, then down the columns, in float64, rounded once at the end.
      const across = new Float64Array(h * ow * 3);
      const tx = taps(w, ow);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < ow; x++)
          for (let k = 0; k < tx.count[x]!; k++)
            for (let c = 0; c < 3; c++)
              across[(y * ow + x) * 3 + c]! += src[(y * w + tx.start[x]! + k) * 3 + c]! * tx.weights[x * tx.width + k]!;
      const ty = taps(h, oh),
        out = new Uint8Array(oh * ow * 3);
      for (let y = 0; y < oh; y++)
        for (let i = 0; i < ow * 3; i++) {
          let v = 0;
          for (let k = 0; k < ty.count[y]!; k++)
            v += across[(ty.start[y]! + k) * ow * 3 + i]! * ty.weights[y * ty.width + k]!;
          out[y * ow * 3 + i] = Math.max(0, Math.min(255, Math.floor(v + 0.5)));
        }
      return out;
    };
    const r = rng(9);
    // Hard edges and noise: Lanczos overshoots at the edges, which the integer passes keep between them.
    const src = Uint8Array.from({ length: 61 * 47 * 3 }, (_, i) => ((i / 3) % 61 < 30 ? 250 : 5) + Math.round(r() * 4));
    for (const [ow, oh] of [
      [224, 224],
      [20, 15],
      [61, 100],
    ] as const) {
      const ours = resizeRgb(src, 61, 47, ow, oh),
        old = f64(src, 61, 47, ow, oh);
      const worst = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - old[i]!)), 0);
      expect(worst, `${ow}x${oh}`).toBeLessThanOrEqual(1);
    }
  });
});
