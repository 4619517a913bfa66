// Small data sets made from Fashion-MNIST's training images, as folders of class folders of PNGs,
// for the benchmarks that compare settings on several data sets (bench:batchnorm, bench:defaults).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { readIdxImages } from '../src/data/formats/index.js';

export const shared = path.resolve(process.env['TLR_SHARED'] ?? path.join(import.meta.dirname, '../../shared'));
const NAMES = ['tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];

/** The first `per` training images of each of `classes` (0..9), in the system's temporary folder; made once. */
export async function fashionFolder(name: string, classes: readonly number[], per: number): Promise<string> {
  const dir = path.join(os.tmpdir(), `tlr-fashion-${name}`);
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  const images = readIdxImages(path.join(shared, 'datasets/fashion-mnist/train-images-idx3-ubyte.gz'));
  const y = zlib
    .gunzipSync(fs.readFileSync(path.join(shared, 'datasets/fashion-mnist/train-labels-idx1-ubyte.gz')))
    .subarray(8);
  for (const c of classes) {
    fs.mkdirSync(path.join(dir, NAMES[c]!), { recursive: true });
    for (let i = 0, k = 0; i < y.length && k < per; i++) {
      if (y[i] !== c) continue;
      const px = images.pixels.subarray(i * 784, (i + 1) * 784);
      await sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(path.join(dir, NAMES[c]!, `${String(k++).padStart(3, '0')}.png`));
    }
  }
  fs.writeFileSync(done, '');
  return dir;
}

/** Four classes that look alike: t-shirt, pullover, coat, shirt, 250 each. */
export const hard4 = (): Promise<string> => fashionFolder('hard4', [0, 2, 4, 6], 250);
