import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

// The benchmarks' photo-like JPEGs, shared so that every bench reads the same files.

/** N photo-like JPEGs (smooth colour fields with noise, 320x240), made once and kept in the temp folder. */
export async function benchImages(N: number): Promise<string[]> {
  const dir = path.join(os.tmpdir(), `tlr-bench-jpegs-${N}`);
  fs.mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: N }, (_, i) => path.join(dir, `img-${String(i).padStart(5, '0')}.jpg`));
  for (const [i, f] of files.entries()) {
    if (fs.existsSync(f)) continue;
    const w = 320,
      h = 240,
      px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) {
          px[(y * w + x) * 3 + c] =
            (128 +
              100 * Math.sin((x * (c + 1) + i * 7) / 37) * Math.cos((y * (3 - c) + i) / 29) +
              ((x * 31 + y * 17 + i * 13 + c * 7) % 23)) &
            255;
        }
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(f);
  }
  return files;
}
